package client

import (
	"context"
	"errors"
	"path"
	"slices"
	"strings"

	"dfs/core"
	"dfs/core/crypt"
	"dfs/core/wire"
)

// The stub is where names are encrypted and entries authenticated
// (docs/security.md): everything above it works with plaintext paths and
// metas that passed their seal; on the wire every path is encrypted
// (crypt.EncryptPath) and every meta a node returns is checked
// (crypt.VerifyEntry) against its name and the Born of the folder it was
// found in. A meta that fails is dropped, as if the node did not hold it,
// and counted against the node (noteForged).

// unsent is the failure of a request before anything of it was sent (the
// user's keys could not be loaded, a name too long to encrypt): the
// connection stays in step, and the error says nothing of the node (call).
type unsent struct{ error }

func (u unsent) Unwrap() error { return u.error }

// keys returns the user's keys for the request in progress.
func (s *stub) keys() (*crypt.Keys, error) {
	ctx := s.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	k, err := s.pool.c.keyring(ctx)
	if err != nil {
		return nil, unsent{err}
	}
	return k, nil
}

// encPath encrypts the plaintext path p for the wire.
func (s *stub) encPath(p string) (string, error) {
	k, err := s.keys()
	if err != nil {
		return "", err
	}
	enc, err := k.EncryptPath(p)
	if err != nil {
		return "", unsent{err}
	}
	return enc, nil
}

// plainErr puts the plaintext paths back into a node's refusal, which
// quotes the encrypted ones it got: paths holds each path of the request
// in plaintext and then encrypted. Every folder above a path is put back
// too (longest first): a node's message may name the folder a change
// failed in.
func plainErr(err error, paths ...string) error {
	var re *wire.RemoteError
	if !errors.As(err, &re) {
		return err
	}
	var pairs [][2]string
	for i := 0; i+1 < len(paths); i += 2 {
		plain, enc := strings.Split(paths[i], "/"), strings.Split(paths[i+1], "/")
		for j := len(plain); j > 0 && paths[i] != "" && len(enc) == len(plain); j-- {
			pairs = append(pairs, [2]string{strings.Join(enc[:j], "/"), strings.Join(plain[:j], "/")})
		}
	}
	slices.SortStableFunc(pairs, func(a, b [2]string) int { return len(b[0]) - len(a[0]) })
	args := make([]string, 0, 2*len(pairs))
	for _, p := range pairs {
		args = append(args, p[0], p[1])
	}
	re.Message = strings.NewReplacer(args...).Replace(re.Message)
	return err
}

// onWire returns m as the nodes store it: its symlink target encrypted.
func onWire(m wire.Meta) wire.Meta {
	if m.SealedTarget != "" {
		m.Target, m.SealedTarget = m.SealedTarget, ""
	}
	return m
}

// implicitStamp is the Stamp and Born of a folder a node made itself, for
// a change it got below a folder whose mkdir it missed (node/store's
// implicitStamp): the oldest stamp, so that the folder's real meta wins
// every merge, and unsealed, as no client made it.
const implicitStamp = "000000000000000000000001"

// implicit reports a folder a node made itself. It passes unauthenticated,
// as it says nothing (a folder older than any other at that name, its
// attributes fixed below), but the merge never takes it for an entry
// (mergeAt): heal replaces it with the real folder, or removes it with
// what it holds where the folder was removed, and a commit below it sends
// the real folder first (sealerAt). What is under it was sealed under the
// real folder's Born, which the node does not know, so it is not taken
// from the node until then.
func implicit(m *wire.Meta) bool {
	if !nodeMade(m) {
		return false
	}
	m.Mode, m.UID, m.GID, m.Target, m.Version, m.Size, m.Segments = 0o755, 0, 0, "", "", 0, nil
	return true
}

// open authenticates m, found at the plaintext path p in the folder born
// parentBorn, and turns it into what the client works with: Path in
// plaintext, a symlink's target decrypted. It reports false for a meta
// that fails, counted against the node.
func (s *stub) open(k *crypt.Keys, p, parentBorn string, m *wire.Meta) bool {
	if !k.VerifyEntry(path.Base(p), parentBorn, m) {
		s.pool.c.noteForgedEntry(s.pool.idx, p, m.Stamp)
		return false
	}
	if m.Target != "" && !m.Deleted {
		t, err := k.DecryptTarget(m.Target)
		if err != nil {
			s.pool.c.noteForged(s.pool.idx, "entry", p)
			return false
		}
		m.SealedTarget, m.Target = m.Target, t
	}
	m.Path = p
	return true
}

// openChain authenticates a LOOKUP or LIST chain for the plaintext path p
// (root first), cut at the first meta that fails: as if the node had
// nothing from there on. A folder the node made itself ends it too, after
// it (implicit).
func (s *stub) openChain(k *crypt.Keys, p string, chain []wire.Meta) []wire.Meta {
	if p == "" {
		return chain[:0]
	}
	parts := strings.Split(p, "/")
	born := ""
	for i := range chain {
		if i >= len(parts) {
			return chain[:i]
		}
		q := strings.Join(parts[:i+1], "/")
		if implicit(&chain[i]) {
			chain[i].Path = q
			return chain[:i+1]
		}
		if !s.open(k, q, born, &chain[i]) {
			return chain[:i]
		}
		born = chain[i].Born
	}
	return chain
}

// openEntries authenticates a LIST's entries under the plaintext folder
// dir, whose authenticated chain is chain, keeping those that pass: each
// is checked against the Born of its folder, dir's or (recursive) that of
// a folder of the listing checked before it, top down. An entry whose
// folder is not such a folder is dropped (its folder failed, or is one a
// node made itself).
func (s *stub) openEntries(k *crypt.Keys, dir string, chain, entries []wire.Meta) []wire.Meta {
	folders := map[string]string{} // plaintext folder -> its Born; implicitStamp: a folder the node made itself
	switch {
	case dir == "":
		folders[""] = ""
	case len(chain) == strings.Count(dir, "/")+1 && chain[len(chain)-1].Dir:
		folders[dir] = chain[len(chain)-1].Born
	}
	plain := make([]string, len(entries)) // "": a name that does not decrypt
	for i := range entries {
		p, err := k.DecryptPath(entries[i].Path)
		if err != nil || p == "" {
			s.pool.c.noteForged(s.pool.idx, "entry", path.Join(dir, "(a name that does not decrypt)"))
			continue
		}
		plain[i] = p
	}
	order := make([]int, len(entries))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return strings.Count(plain[a], "/") - strings.Count(plain[b], "/") })
	keep := make([]bool, len(entries))
	for _, i := range order {
		p := plain[i]
		if p == "" {
			continue
		}
		born, ok := folders[core.Parent(p)]
		switch {
		case ok && implicit(&entries[i]):
			entries[i].Path = p
		case !ok || born == implicitStamp || !s.open(k, p, born, &entries[i]):
			continue
		}
		keep[i] = true
		if entries[i].Dir {
			folders[p] = entries[i].Born
		}
	}
	out := entries[:0]
	for i := range entries {
		if keep[i] {
			out = append(out, entries[i])
		}
	}
	return out
}
