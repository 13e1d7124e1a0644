// Package conf reads and edits the dfs configuration files: the client's
// dfc.conf (the four chunk nodes, the user name, the password and the
// transport) and a node's dfs.conf (user names with the login verifiers of
// their passwords, crypt.Root.Login, from which no password is guessed
// faster than by argon2id and nothing logs in).
//
// Both files keep the line syntax of the Python proof of concept
// ("Server DFS1 127.0.0.1:10001", "Username: Alice", "Password: ...") and
// tolerate extra spaces, tabs, blank lines, '#' comments and keys in any case.
// Every error names the file, the line and what was expected.
//
// Edits (SetPin, AddUser, SetPassword, DelUser) keep every untouched line byte
// for byte, are serialized by an flock on PATH.lock and replace the file
// atomically (temp file with O_EXCL and mode 0600, fsync, rename, fsync of
// the directory).
package conf
