package client

import (
	"context"
	"errors"
	"net"
	"time"

	"dfs/core/crypt"
	"dfs/core/wire"
)

// stub is one connection to a node, spoken through one method per request.
// Each method frames its request, reads the reply and owns the deadlines:
// a control reply must come within Config.Reply (a reply to AUTH
// wire.MaxLoginDelay later: a node holds back its refusal of a wrong
// password by up to that); a request that moves chunk data or may wait
// for the node's disk (COMMIT, SYNC, KEY_PUT, PASSWD) gets
// Config.IOTimeout, and while data flows only silence counts
// (wire.Conn.SetIdle). A method returns the connection's error or the
// node's refusal as a *wire.RemoteError; call (pool.go) sorts them and
// decides what becomes of the connection.
type stub struct {
	nc      net.Conn // what conn speaks over: AUTH's proof is bound to it (wire.LoginBinding)
	conn    *wire.Conn
	reply   time.Duration   // Config.Reply
	login   time.Duration   // Config.Reply + wire.MaxLoginDelay, for AUTH
	io      time.Duration   // Config.IOTimeout
	trailer bool            // the transport protects the data (TLS): a chunk's hash may follow it
	pool    *nodePool       // the node's: the user's keys, and its count of what failed authentication
	ctx     context.Context // the request's, set by call for the user's keys (stub_names.go)
}

func newStub(p *nodePool, nc net.Conn, cfg *Config) *stub {
	return &stub{nc: nc, conn: wire.NewConn(nc), reply: cfg.Reply, login: loginWait(cfg), io: cfg.IOTimeout, trailer: !cfg.Plaintext, pool: p}
}

// loginWait is how long a reply to a password may take: a check as long as
// any control reply, and then a wrong password's delay.
func loginWait(cfg *Config) time.Duration { return cfg.Reply + wire.MaxLoginDelay }

// roundTrip sends req as a request of type t and reads the reply into resp
// (nil when the reply carries nothing), allowing the node wait.
func (s *stub) roundTrip(t wire.Type, req, resp any, wait time.Duration) error {
	s.conn.SetDeadline(time.Now().Add(wait))
	if err := s.conn.Send(t, wire.StatusOK, req); err != nil {
		return err
	}
	return s.conn.Recv(t, resp)
}

// auth logs in (AUTH, the first request on a connection) with a proof of
// the password bound to this connection, which no other connection (and
// so no other node) accepts, and lifts the cap on control frames read and
// the buffers to those of authenticated connections.
func (s *stub) auth(user string, root *crypt.Root) error {
	binding := wire.LoginBinding(s.nc)
	if binding == nil {
		return errors.New("no login binding from the TLS connection")
	}
	var resp wire.AuthResp
	if err := s.roundTrip(wire.TypeAuth, wire.AuthReq{User: user, Proof: root.Prove(user, binding)}, &resp, s.login); err != nil {
		return err
	}
	s.conn.SetCaps(wire.ClientCaps)
	return s.conn.Grow()
}

// lookup asks for path's entry (LOOKUP): the metas of its folders and of
// path itself, root first, as far as the node has them and they pass
// authentication (openChain).
func (s *stub) lookup(path string) ([]wire.Meta, error) {
	k, err := s.keys()
	if err != nil {
		return nil, err
	}
	enc, err := s.encPath(path)
	if err != nil {
		return nil, err
	}
	s.conn.SetDeadline(time.Now().Add(s.reply))
	if err := s.conn.Send(wire.TypeLookup, wire.StatusOK, wire.LookupReq{Path: enc}); err != nil {
		return nil, err
	}
	body, err := s.conn.RecvBody(wire.TypeLookup)
	if err != nil {
		return nil, plainErr(err, path, enc)
	}
	resp, err := wire.DecodeLookupResp(body)
	return s.openChain(k, path, resp.Chain), err
}

// list asks for the entries under dir (LIST) and returns the chain of dir
// and its folders and the entries of every batch, each batch within
// Config.Reply of the one before. What came before an error comes with it.
// Only what passes authentication is returned (openChain, openEntries).
func (s *stub) list(dir string, recursive bool) (chain, entries []wire.Meta, err error) {
	k, err := s.keys()
	if err != nil {
		return nil, nil, err
	}
	enc, err := s.encPath(dir)
	if err != nil {
		return nil, nil, err
	}
	chain, entries, err = s.listEnc(enc, recursive)
	chain = s.openChain(k, dir, chain)
	return chain, s.openEntries(k, dir, chain, entries), plainErr(err, dir, enc)
}

// listEnc is list of the encrypted folder dir, as the node answers it.
func (s *stub) listEnc(dir string, recursive bool) (chain, entries []wire.Meta, err error) {
	s.conn.SetDeadline(time.Now().Add(s.reply))
	if err := s.conn.Send(wire.TypeList, wire.StatusOK, wire.ListReq{Dir: dir, Recursive: recursive}); err != nil {
		return nil, nil, err
	}
	for first := true; ; first = false {
		s.conn.SetDeadline(time.Now().Add(s.reply))
		body, err := s.conn.RecvBody(wire.TypeList)
		if err != nil {
			return chain, entries, err
		}
		resp, err := wire.DecodeListResp(body)
		if err != nil {
			return chain, entries, err
		}
		if first {
			chain = resp.Chain
		}
		if entries == nil {
			entries = resp.Entries // most listings are one batch: no copy
		} else {
			entries = append(entries, resp.Entries...)
		}
		if resp.Done {
			return chain, entries, nil
		}
	}
}

// update changes one entry's metadata (UPDATE: mkdir, setattr, delete,
// rmdir). The meta goes without its segments: nodes take none from an
// UPDATE, and a big file's would not fit a control frame.
func (s *stub) update(req wire.UpdateReq) error {
	plain := req.Path
	var err error
	if req.Path, err = s.encPath(plain); err != nil {
		return err
	}
	req.Meta = onWire(req.Meta)
	req.Meta.Segments, req.Meta.Held = nil, nil
	return plainErr(s.roundTrip(wire.TypeUpdate, req, nil, s.reply), plain, req.Path)
}

// rename moves an entry (RENAME).
func (s *stub) rename(req wire.RenameReq) error {
	from, to := req.From, req.To
	var err error
	if req.From, err = s.encPath(from); err != nil {
		return err
	}
	if req.To, err = s.encPath(to); err != nil {
		return err
	}
	return plainErr(s.roundTrip(wire.TypeRename, req, nil, s.reply), from, req.From, to, req.To)
}

// purge drops the tombstone at path if it is still stamped stamp (PURGE).
func (s *stub) purge(path, stamp string, forged bool) error {
	enc, err := s.encPath(path)
	if err != nil {
		return err
	}
	return plainErr(s.roundTrip(wire.TypePurge, wire.PurgeReq{Path: enc, Stamp: stamp, Forged: forged}, nil, s.reply), path, enc)
}

// info asks for the node's state (INFO).
func (s *stub) info() (wire.InfoResp, error) {
	var info wire.InfoResp
	err := s.roundTrip(wire.TypeInfo, wire.InfoReq{}, &info, s.reply)
	return info, err
}

// passwd changes the user's password on the node (PASSWD): a new
// verifier, and the master key wrapped for it in place of expect.
func (s *stub) passwd(req wire.PasswdReq) error {
	return s.roundTrip(wire.TypePasswd, req, nil, s.io)
}

// keyGet returns the user's wrapped master key as the node holds it, nil
// for none (KEY_GET).
func (s *stub) keyGet() ([]byte, error) {
	var resp wire.KeyResp
	err := s.roundTrip(wire.TypeKeyGet, wire.KeyGetReq{}, &resp, s.reply)
	return resp.Key, err
}

// keyPut stores key as the user's wrapped master key if the node's is
// expect (nil: none), and returns the node's key after the request
// (KEY_PUT). The node writes it durably before replying: the I/O time.
func (s *stub) keyPut(key, expect []byte) ([]byte, error) {
	var resp wire.KeyResp
	err := s.roundTrip(wire.TypeKeyPut, wire.KeyPutReq{Key: key, Expect: expect}, &resp, s.io)
	return resp.Key, err
}

// sync waits until everything the node acknowledged is on its disk (SYNC):
// a flush writes to disk, so it gets the I/O time.
func (s *stub) sync() error {
	return s.roundTrip(wire.TypeSync, wire.SyncReq{}, nil, s.io)
}

// drop abandons an upload whose commit will not come (DROP).
func (s *stub) drop(upload string) error {
	return s.roundTrip(wire.TypeDrop, wire.DropReq{Upload: upload}, nil, s.reply)
}

// commit makes req.Meta current with the chunks staged under req.Upload
// (COMMIT) and returns the chunks of the version's segments the node holds
// (wire.CommitResp). A commit may wait for the node's flush (Sync), so it
// gets the I/O time.
func (s *stub) commit(req wire.CommitReq) ([]uint8, error) {
	s.conn.SetDeadline(time.Now().Add(s.io))
	enc, err := s.writeCommit(req)
	if err != nil {
		return nil, err
	}
	if err := s.conn.Flush(); err != nil {
		return nil, err
	}
	held, err := s.commitReply()
	return held, plainErr(err, req.Path, enc)
}

// writeCommit writes a COMMIT request without flushing it, to go right
// behind the chunks it names (sendSmall), and returns its encrypted path.
func (s *stub) writeCommit(req wire.CommitReq) (enc string, err error) {
	plain := req.Path
	if req.Path, err = s.encPath(plain); err != nil {
		return "", err
	}
	req.Meta = onWire(req.Meta)
	return req.Path, s.conn.WriteBody(wire.TypeCommit, wire.AppendCommitReq(nil, &req))
}

// commitReply reads the answer to a COMMIT.
func (s *stub) commitReply() ([]uint8, error) {
	var resp wire.CommitResp
	err := s.conn.Recv(wire.TypeCommit, &resp)
	return resp.Held, err
}
