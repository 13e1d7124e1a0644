// Package crypt holds dfs's end-to-end keys (docs/security.md, End-to-end
// keys): what a client derives from the user's password, the random master
// key that password wraps, and what the master key encrypts and
// authenticates: names, chunk contents, symlink targets and entries. It is
// pure: no I/O, no network. Nodes use only VerifyLogin and ParseLogin.
//
//	password ──argon2id(user salt)──> Root ─┬─ HKDF "login" ──> ed25519 key: the login proof (nodes keep its public key)
//	                                        └─ HKDF "wrap"  ──> AES-GCM key wrapping ─┐
//	MasterKey (32 random bytes, kept wrapped on the nodes) <──────────────────────────┘
//	    └─ HKDF ──> name keys (SIV: HMAC-SHA256 + AES-CTR), content key (AES-256-GCM
//	                per chunk, a key per segment), target key, entry key (HMAC-SHA256 seals)
package crypt
