package client

import (
	"sync"
	"time"

	"dfs/core"
	"dfs/core/crypt"
	"dfs/core/wire"
)

// A long-lived client (dfsmount) outlives its configuration: the password
// changes (dfc passwd, which rewrites dfc.conf's Password line) and a
// reinstalled node gets a new key (dfc pin, which rewrites its pin). With
// Config.Reload set, a client whose password the nodes refuse, or which
// meets a key that does not match a pin, reads the configuration again and
// carries on with what changed. A refused password is not tried again
// (each try would make the nodes hold back that user's other logins, see
// docs/security.md): until the configuration has another one, logins fail
// at once with core.ErrAuth and an ERROR is logged once, saying what to do.

// Reloaded is what Config.Reload reads from the configuration again.
type Reloaded struct {
	Password string                // "" when it names none (the password was typed, say)
	Pins     [core.NumNodes]string // each node's pin, "" for none
}

// reloadEvery is the least time between two reads of the configuration
// for the same refusal.
const reloadEvery = time.Second

// credentials are the password and pins logins use, as Reload updates
// them.
type credentials struct {
	derive    sync.Mutex // one root key derivation at a time (loginRoot)
	mu        sync.Mutex // guards the fields below
	password  string
	refused   string                   // a password the nodes refused (only with Reload): not tried again
	checked   time.Time                // when the configuration was last read for refused
	warned    string                   // the refused password an ERROR was logged about
	accepted  string                   // the password a node last took (only with Reload)
	refusedBy [core.NumNodes]bool      // the nodes that refused accepted: their dfs.conf has another
	pins      [core.NumNodes]string    // the pins the nodes' TLS configurations check
	pinRead   [core.NumNodes]time.Time // when the configuration was last read for a node's key
	pinWarned [core.NumNodes]bool      // an ERROR was logged about the node's key
}

func (c *Client) initCredentials() {
	c.creds.password = c.cfg.Password
	for i, n := range c.cfg.Nodes {
		c.creds.pins[i] = n.Pin
	}
}

// setPassword makes pw the password of the next logins (Passwd).
func (c *Client) setPassword(pw string) {
	c.creds.mu.Lock()
	defer c.creds.mu.Unlock()
	c.creds.password, c.creds.refused = pw, ""
}

// loginPassword returns the password to log in with, or core.ErrAuth
// without trying when the nodes refused it and the configuration, read
// again at most every reloadEvery, has no other.
func (c *Client) loginPassword() (string, error) {
	cr := &c.creds
	cr.mu.Lock()
	defer cr.mu.Unlock()
	if cr.refused == "" || cr.password != cr.refused {
		return cr.password, nil
	}
	if time.Since(cr.checked) >= reloadEvery {
		cr.checked = time.Now()
		if r, err := c.cfg.Reload(); err == nil && r.Password != "" && r.Password != cr.refused {
			c.log.Info("read a new password from the configuration; logging in with it")
			cr.password = r.Password
			return cr.password, nil
		}
	}
	return "", core.ErrAuth
}

// loginRoot returns the password to log in with (loginPassword) and its
// root key, which makes the login proofs and opens the master key.
// Deriving a root key is slow by design (argon2id, 64 MiB): the
// connections a client dials at once wait for one derivation, which the
// process keeps (crypt.DeriveRoot).
func (c *Client) loginRoot() (*crypt.Root, string, error) {
	pw, err := c.loginPassword()
	if err != nil {
		return nil, "", err
	}
	c.creds.derive.Lock()
	defer c.creds.derive.Unlock()
	return crypt.DeriveRoot(c.cfg.User, pw), pw, nil
}

// loginAccepted records that node n took pw.
func (c *Client) loginAccepted(pw string, n int) {
	if c.cfg.Reload == nil {
		return
	}
	cr := &c.creds
	cr.mu.Lock()
	defer cr.mu.Unlock()
	if cr.accepted != pw {
		cr.accepted, cr.refusedBy = pw, [core.NumNodes]bool{}
	}
	cr.refusedBy[n] = false
}

// loginRefused records that the nodes refused pw and reports whether
// there is another password to try at once: one read from the
// configuration, or one another login switched to meanwhile. One node
// refusing a password another took is that node's dfs.conf, not the
// password's (an operator's reset on that node alone, a node lying): it
// is logged and the password kept for the others; a second node refusing
// it is a change of password.
func (c *Client) loginRefused(pw string, n int) bool {
	if c.cfg.Reload == nil {
		return false
	}
	cr := &c.creds
	cr.mu.Lock()
	defer cr.mu.Unlock()
	if cr.password != pw {
		return cr.password != cr.refused
	}
	r, err := c.cfg.Reload()
	if err == nil && r.Password != "" && r.Password != pw {
		c.log.Info("the nodes refused the password; read a new one from the configuration, logging in with it")
		cr.refused, cr.checked = pw, time.Now()
		cr.password = r.Password
		return true
	}
	if cr.accepted == pw && err == nil {
		if !cr.refusedBy[n] {
			cr.refusedBy[n] = true
			c.log.Warn("a node refuses the password the others took: its dfs.conf has another for the user; it is passed over",
				"node", c.nodes[n].label, "user", c.cfg.User)
		}
		refusing := 0
		for _, r := range cr.refusedBy {
			if r {
				refusing++
			}
		}
		if refusing < 2 {
			return false
		}
	}
	cr.refused, cr.checked = pw, time.Now()
	if cr.warned != pw {
		cr.warned = pw
		msg := "the nodes refused the password of " + c.cfg.User + " and the configuration has no other: " +
			"put the new password in dfc.conf's Password line (read again at the next request) or remount; " +
			"until then every request fails, without trying the old password again"
		if err != nil {
			c.log.Error(msg, "err", err)
		} else {
			c.log.Error(msg)
		}
	}
	return false
}

// repin is called when node p's key does not match its pin: it reads the
// configuration again (at most every reloadEvery) and, if the node's pin
// changed there (dfc pin), checks the node's key against the new one and
// reports true, to dial again. Otherwise it logs an ERROR once.
func (p *nodePool) repin() bool {
	c := p.c
	if c.cfg.Reload == nil || c.cfg.Plaintext {
		return false
	}
	cr := &c.creds
	cr.mu.Lock()
	defer cr.mu.Unlock()
	if time.Since(cr.pinRead[p.idx]) < reloadEvery {
		return false
	}
	cr.pinRead[p.idx] = time.Now()
	r, err := c.cfg.Reload()
	if pin := r.Pins[p.idx]; err == nil && pin != "" && pin != cr.pins[p.idx] {
		c.log.Info("read a new pin for the node from the configuration; connecting with it", "node", p.name, "pin", pin)
		cr.pins[p.idx], cr.pinWarned[p.idx] = pin, false
		p.mu.Lock()
		p.tls = wire.ClientTLS(p.name, p.addr, pin)
		p.mu.Unlock()
		p.closeIdle()
		return true
	}
	if !cr.pinWarned[p.idx] {
		cr.pinWarned[p.idx] = true
		c.log.Error("the node's key does not match its pin: if it was reinstalled with a new key, check the key and run `dfc pin "+p.name+"`, "+
			"which rewrites the pin (read again here) and heals the node; otherwise something else answers at its address", "node", p.name, "addr", p.addr)
	}
	return false
}
