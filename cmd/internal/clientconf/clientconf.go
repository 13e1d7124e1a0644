// Package clientconf turns a dfc.conf into a client.Config for dfc and
// dfsmount: it finds the file, takes the password from the environment, the
// file or a prompt, and asks about node keys on first contact and records
// them.
package clientconf

import (
	"flag"
	"fmt"
	"os"

	"dfs/conf"
	"dfs/core/client"
)

// PasswordEnv overrides the password in dfc.conf.
const PasswordEnv = "DFS_PASSWORD"

// FlagVar defines the -conf flag of dfc and dfsmount in fs, with *p as
// its default.
func FlagVar(fs *flag.FlagSet, p *string) {
	fs.StringVar(p, "conf", *p, "client configuration `file` (default: $DFS_CONF, ./dfc.conf, ~/.config/dfs/dfc.conf)")
}

// Load finds and reads the client configuration (flagPath, $DFS_CONF,
// ./dfc.conf, ~/.config/dfs/dfc.conf). The password comes from $DFS_PASSWORD,
// else the file, else a prompt on the terminal (or a line on stdin). The
// client reads the file again when the nodes refuse the password or a key
// does not match a pin (client.Config.Reload).
func Load(flagPath string) (client.Config, error) {
	path, err := conf.FindClient(flagPath)
	if err != nil {
		return client.Config{}, err
	}
	cc, err := conf.LoadClient(path)
	if err != nil {
		return client.Config{}, err
	}
	if cc.User == "" {
		return client.Config{}, fmt.Errorf("%s: no Username line", path)
	}
	warnReadable(path, cc, os.Stderr)
	pw, fromFile := cc.Password, cc.Password != ""
	if env, ok := os.LookupEnv(PasswordEnv); ok {
		// The same as the file's (dfsmount's background half gets the
		// password this way) still follows the file.
		pw, fromFile = env, fromFile && env == cc.Password
	}
	if pw == "" {
		pw, err = conf.ReadPassword(fmt.Sprintf("Password for %s: ", cc.User), os.Stdin, os.Stderr)
		if err != nil {
			return client.Config{}, fmt.Errorf("read password: %w", err)
		}
	}
	cfg := FromConf(cc, pw)
	cfg.Reload = reloader(path, fromFile)
	return cfg, nil
}

// FromConf builds a client.Config from a parsed dfc.conf and a password.
// The keys of nodes without a pin are asked about on the terminal, or
// pinned with a warning without one, or refused with Pins: strict, and
// pinned into the file the conf was read from (firstcontact.go).
func FromConf(cc *conf.Client, password string) client.Config {
	cfg := client.Config{User: cc.User, Password: password, Plaintext: cc.Plaintext}
	for _, s := range cc.Servers {
		cfg.Nodes = append(cfg.Nodes, client.NodeAddr{Name: s.Name, Addr: s.Addr, Pin: s.Pin})
	}
	cfg.OnNewPin = (&firstContact{cc: cc, in: os.Stdin, out: os.Stderr}).decide
	return cfg
}

// Unpinned reports whether cfg has a node without a pin, to be met first
// (over TLS; plaintext has no keys).
func Unpinned(cfg client.Config) bool {
	if cfg.Plaintext {
		return false
	}
	for _, n := range cfg.Nodes {
		if n.Pin == "" {
			return true
		}
	}
	return false
}
