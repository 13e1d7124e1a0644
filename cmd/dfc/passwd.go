package main

import (
	"context"
	"fmt"
	"os"

	"dfs/cmd/internal/clientconf"
	"dfs/conf"
	"dfs/core/client"
)

// runPasswd changes the user's password on every node. It asks for the old
// password and the new one twice on a terminal; from a pipe it reads two
// lines, old then new. The conf's Password line, if any, is not used (the
// old password is asked for); once every node has the new password, it
// is rewritten with it (a running dfsmount re-reads it when the nodes
// refuse its old one).
func runPasswd(ctx context.Context, e *env, args []string) error {
	fs := e.flagSet("passwd")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usagef("takes no arguments")
	}
	path, err := conf.FindClient(e.confPath)
	if err != nil {
		return err
	}
	cc, err := conf.LoadClient(path)
	if err != nil {
		return err
	}
	if cc.User == "" {
		return fmt.Errorf("%s: no Username line", path)
	}
	oldPw, err := conf.ReadPassword(fmt.Sprintf("Old password for %s: ", cc.User), e.stdin, e.stderr)
	if err != nil {
		return err
	}
	newPw, err := conf.ReadNewPassword(e.stdin, e.stderr)
	if err != nil {
		return err
	}
	cfg := clientconf.FromConf(cc, oldPw)
	c, err := client.New(cfg)
	if err != nil {
		return err
	}
	e.cfg, e.client = cfg, c // closed by run
	if err := c.Passwd(ctx, oldPw, newPw); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "password of %s changed on all nodes\n", cc.User)
	if cc.Password != "" {
		if _, err := conf.SetClientPassword(path, newPw); err != nil {
			fmt.Fprintf(e.stderr, "dfc: %v; %s still has the old password in its Password line: edit it\n", err, path)
		} else {
			fmt.Fprintf(e.stdout, "new password written to the Password line of %s\n", path)
		}
	}
	if _, ok := os.LookupEnv(clientconf.PasswordEnv); ok {
		fmt.Fprintf(e.stderr, "dfc: note: $%s still holds the old password\n", clientconf.PasswordEnv)
	}
	return nil
}
