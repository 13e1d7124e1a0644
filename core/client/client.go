package client

import (
	"context"
	"dfs/core"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"
)

// NodeAddr names one chunk node as dfc.conf does.
type NodeAddr struct {
	Name string // DFS1..DFS4
	Addr string // host:port
	Pin  string // "sha256:<hex>" of the node's key, or "" to trust on first use
}

// Config configures a Client. Zero durations take the defaults.
type Config struct {
	Nodes     []NodeAddr // exactly four, DFS1..DFS4 in order
	User      string
	Password  string
	Plaintext bool // no TLS: only by the explicitly named insecure option

	// OnNewPin decides about the key of a node whose Pin is empty, at
	// first contact (trust on first use): it is called with the key's
	// fingerprint after the TLS handshake and before anything is sent to
	// the node, the login included. It is called once per node for the
	// client's life, from a goroutine of its own; calls for different
	// nodes may overlap (one that asks a person serializes them). It may
	// block: meanwhile the node is not taken for hung. Nil accepts the
	// key, and it becomes the node's pin: a later connection presenting
	// another key is refused. An error refuses the node for the client's
	// life: its requests fail with that error, which matches
	// core.ErrPinMismatch. With no OnNewPin every new key is accepted.
	OnNewPin func(node int, fingerprint string) error

	// Timeout bounds connecting to a node and its TLS handshake; default
	// 3s. It is generous because a hung node is told apart by comparison
	// with the others (see Stall), not by it: a loaded machine handshakes
	// slowly.
	Timeout   time.Duration
	Reply     time.Duration // wait for a control reply; default 5s
	IOTimeout time.Duration // silence allowed inside a data transfer; default 30s
	// RetryDown is how long a node that timed out (or was found hung) is
	// skipped; twice as long each time it fails again right after, up to
	// 15s. Default 2s.
	RetryDown time.Duration
	// Stall is how long a node may lag behind the others before an
	// operation checks whether it is hung: once one node answered, the
	// others have Stall (or as long again as the first took, if longer);
	// sending a chunk waits Stall for a node that takes no data while its
	// partner does; a read asks the other copy too when the first has not
	// answered within Stall. A lagging node that does not answer a check
	// either (alive.go) is left behind and skipped, so a hung node costs
	// about 1.5 Stall, not the timeouts; a slow one is waited for. Default
	// 1s.
	Stall time.Duration

	// ReadAheadBudget bounds the memory all open Files hold for reading
	// ahead of sequential readers; default DefaultReadAheadBudget (64 MiB),
	// negative turns read-ahead off.
	ReadAheadBudget int64
	Log             *slog.Logger
	Metrics         *Metrics // nil: none (metrics.go)

	// Reload reads the configuration again, for a password the nodes
	// refused or a key that does not match a pin (reload.go); nil: the
	// client keeps what it was given.
	Reload func() (Reloaded, error)
}

// Client stores and fetches one user's files on the four nodes. It is safe
// for concurrent use; connections to each node are pooled and reused.
type Client struct {
	cfg      Config
	nodes    [core.NumNodes]*nodePool
	log      *slog.Logger
	raBudget *raBudget  // nil with read-ahead off
	names    *listCache // in front of the namespace operations (api.go)
	creds    credentials
	keys     keyState // the user's master key (keys.go)
}

// New checks cfg and returns a client. It does not connect: the first request
// does (see Ping).
func New(cfg Config) (*Client, error) {
	if len(cfg.Nodes) != core.NumNodes {
		return nil, fmt.Errorf("need %d nodes, got %d", core.NumNodes, len(cfg.Nodes))
	}
	if cfg.User == "" {
		return nil, errors.New("no user name")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 3 * time.Second
	}
	if cfg.Reply <= 0 {
		cfg.Reply = 5 * time.Second
	}
	if cfg.IOTimeout <= 0 {
		cfg.IOTimeout = 30 * time.Second
	}
	if cfg.RetryDown <= 0 {
		cfg.RetryDown = 2 * time.Second
	}
	if cfg.Stall <= 0 {
		cfg.Stall = time.Second
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.ReadAheadBudget == 0 {
		cfg.ReadAheadBudget = DefaultReadAheadBudget
	}
	c := &Client{cfg: cfg, log: log}
	c.initCredentials()
	c.names = newListCache(c, 0)
	if cfg.ReadAheadBudget > 0 {
		c.raBudget = newRABudget(cfg.ReadAheadBudget)
	}
	for i := range c.nodes {
		c.nodes[i] = newNodePool(c, i, cfg.Nodes[i])
	}
	return c, nil
}

// Close drops pooled connections.
func (c *Client) Close() error {
	for _, n := range c.nodes {
		n.closeIdle()
	}
	return nil
}

// NodeName returns DFSn's name from the configuration.
func (c *Client) NodeName(n int) string { return c.nodes[n].name }

// NodeState is one node's answer to Ping.
type NodeState struct {
	Name, Addr string
	Up         bool
	Err        error
	Info       NodeInfo
}

// Ping connects and authenticates to every node and asks for its state. It
// fails with ErrAuth when any node refused the password and with ErrNoNode
// when none answered; otherwise it reports each node.
func (c *Client) Ping(ctx context.Context) ([]NodeState, error) {
	out := make([]NodeState, core.NumNodes)
	res := c.fanout(ctx, allNodes, func(ctx context.Context, n int) error {
		info, err := c.nodeInfo(ctx, n)
		out[n].Info = info
		return err
	})
	up := 0
	for i := range out {
		out[i].Name, out[i].Addr = c.nodes[i].name, c.nodes[i].addr
		out[i].Err = res[i]
		out[i].Up = res[i] == nil
		if out[i].Up {
			up++
		}
		if errors.Is(res[i], core.ErrAuth) {
			return out, core.ErrAuth
		}
		if errors.Is(res[i], core.ErrPinMismatch) {
			return out, res[i]
		}
	}
	if up == 0 {
		return out, c.noNode(res)
	}
	return out, nil
}

// noNode builds the error for "no node answered", naming each node's
// reason and keeping the causes testable with errors.Is.
func (c *Client) noNode(res []error) error {
	errs := []error{core.ErrNoNode}
	for i, err := range res {
		if err != nil {
			errs = append(errs, fmt.Errorf("%s (%s): %w", c.nodes[i].name, c.nodes[i].addr, err))
		}
	}
	return &joined{errs}
}

// joined is errors.Join printed on one line: "first: second; third".
type joined struct{ errs []error }

func (j *joined) Error() string {
	s := j.errs[0].Error()
	for i, e := range j.errs[1:] {
		if i == 0 {
			s += ": "
		} else {
			s += "; "
		}
		s += e.Error()
	}
	return s
}

func (j *joined) Unwrap() []error { return j.errs }
