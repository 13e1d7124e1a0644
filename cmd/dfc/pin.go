package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/term"

	"dfs/cmd/internal/clientconf"
	"dfs/conf"
	"dfs/core/client"
)

// runPin re-pins a node whose key changed (reinstalled without its
// node.key): it connects to the node without checking its pin, shows the
// pinned key and the one it presents, and after confirmation (a yes on the
// terminal, or -yes) writes the new pin into the node's Server line; then
// it heals, so that the node gets its copies back now rather than at a
// mount's next periodic heal. A running dfsmount reads the new pin when it
// next meets the node.
func runPin(ctx context.Context, e *env, args []string) error {
	fs := e.flagSet("pin")
	yes := fs.Bool("yes", false, "trust the key the node presents without asking (compare it with `dfsnode fingerprint` first)")
	noHeal := fs.Bool("no-heal", false, "only write the pin; heal later")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("want one node name, such as DFS2")
	}
	cfg, err := clientconf.Load(e.confPath)
	if err != nil {
		return err
	}
	if cfg.Plaintext {
		return errors.New("the conf has Transport: plaintext-insecure: the nodes have no keys to pin")
	}
	n := -1
	for i, a := range cfg.Nodes {
		if strings.EqualFold(a.Name, pos[0]) {
			n = i
		}
	}
	if n < 0 {
		return usagef("no node %q in the conf (DFS1..DFS4)", pos[0])
	}
	path, err := conf.FindClient(e.confPath)
	if err != nil {
		return err
	}
	node := cfg.Nodes[n]
	old := node.Pin
	firstContact := cfg.OnNewPin
	decided := false
	cfg.Nodes[n].Pin = "" // meet its key as at first contact, and decide here
	cfg.OnNewPin = func(m int, fp string) error {
		if m != n {
			return firstContact(m, fp)
		}
		decided = true
		if fp == old {
			fmt.Fprintf(e.stdout, "%s at %s: its key %s is the one pinned; nothing to change\n", node.Name, node.Addr, fp)
			return nil
		}
		fmt.Fprintf(e.stderr, "%s at %s presents the key\n    %s\n", node.Name, node.Addr, fp)
		if old != "" {
			fmt.Fprintf(e.stderr, "but %s pins\n    %s\n", path, old)
		}
		fmt.Fprintf(e.stderr, "Trust the new key only if the node was reinstalled: `dfsnode fingerprint DATA_DIR` on it prints its key.\n")
		if !*yes {
			if !term.IsTerminal(int(e.stdin.Fd())) {
				return errors.New("not trusted: no terminal to ask on; run dfc pin " + node.Name + " -yes once the key is checked")
			}
			ok, err := conf.AskYesNo("Pin the new key (yes/no)? ", e.stdin, e.stderr)
			if err != nil {
				return err
			}
			if !ok {
				return errors.New("not trusted (answered no); the pin is unchanged")
			}
		}
		if err := conf.SetPin(path, node.Name, fp); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "pinned the key of %s (%s) in %s\n", node.Name, fp, path)
		return nil
	}
	c, err := client.New(cfg)
	if err != nil {
		return err
	}
	e.cfg, e.client = cfg, c // closed by run
	states, err := c.Ping(ctx)
	if err != nil && !decided {
		return err
	}
	if st := states[n]; !st.Up {
		return fmt.Errorf("%s: %w", node.Name, st.Err)
	}
	if err != nil {
		return err
	}
	e.pinged = true
	if *noHeal {
		return nil
	}
	fmt.Fprintf(e.stderr, "dfc: healing, so that %s gets its copies back\n", node.Name)
	return runHeal(ctx, e, nil)
}
