// Package clientconf turns a dfc.conf into a client.Config for dfc and
// dfsmount: it finds the file, takes the password from the environment, the
// file or a prompt, and records node key pins on first contact.
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
// else the file, else a prompt on the terminal (or a line on stdin).
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
	pw := cc.Password
	if env, ok := os.LookupEnv(PasswordEnv); ok {
		pw = env
	}
	if pw == "" {
		pw, err = conf.ReadPassword(fmt.Sprintf("Password for %s: ", cc.User), os.Stdin, os.Stderr)
		if err != nil {
			return client.Config{}, fmt.Errorf("read password: %w", err)
		}
	}
	return FromConf(cc, pw), nil
}

// FromConf builds a client.Config from a parsed dfc.conf and a password. New
// node keys are pinned into the file the conf was read from.
func FromConf(cc *conf.Client, password string) client.Config {
	cfg := client.Config{User: cc.User, Password: password, Plaintext: cc.Plaintext}
	for _, s := range cc.Servers {
		cfg.Nodes = append(cfg.Nodes, client.NodeAddr{Name: s.Name, Addr: s.Addr, Pin: s.Pin})
	}
	path := cc.Path
	cfg.OnNewPin = func(n int, fp string) error {
		name := cc.Servers[n].Name
		if path == "" {
			return nil
		}
		if err := conf.SetPin(path, name, fp); err != nil {
			fmt.Fprintf(os.Stderr, "dfs: could not record the key of %s in %s: %v\n", name, path, err)
			return nil
		}
		fmt.Fprintf(os.Stderr, "dfs: first contact with %s: pinned its key %s in %s\n", name, fp, path)
		return nil
	}
	return cfg
}
