package node

import (
	"bytes"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"regexp"
	"slices"
	"sync"
	"testing"
	"time"

	"dfs/core"
	"dfs/core/crypt"
	"dfs/core/wire"
)

// The names docs/format.md gives the files of an entry's directory and of
// the user's folders: the tests look at the data folder as the format
// describes it.
const (
	metaName    = "@meta"
	metaNewName = "@meta.new"
	segmentsDir = "segments"
)

// segFile is the path, under the user's folder, of chunk n of segment id.
func segFile(id string, n int) string {
	return fmt.Sprintf("%s/%s/%s.c%d", segmentsDir, id[len(id)-2:], id, n)
}

// isChunkName reports whether name is a chunk file's.
func isChunkName(name string) bool { return chunkNameRE.MatchString(name) }

var chunkNameRE = regexp.MustCompile(`^[0-9a-f]{24}\.c[0-3]$`)

// randHex returns n random bytes in hex: an upload id for n = 16.
func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// fakeUsers is an Accounts backed by maps.
type fakeUsers struct {
	mu     sync.Mutex
	m      map[string]string // user -> password
	logins map[string]string // user -> verifier set by SetLogin
	quotas map[string]int64
}

func (f *fakeUsers) Quota(user string) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.quotas[user]
}

func (f *fakeUsers) setQuota(user string, q int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.quotas == nil {
		f.quotas = map[string]int64{}
	}
	f.quotas[user] = q
}

// Check verifies a proof against the verifier set by SetLogin, else the
// one of the user's password in m.
func (f *fakeUsers) Check(user string, binding []byte, proof string) (bool, error) {
	f.mu.Lock()
	login, ok := f.logins[user]
	pw, known := f.m[user]
	f.mu.Unlock()
	if !ok && !known {
		return false, nil
	}
	if !ok {
		login = crypt.LoginFor(user, pw)
	}
	return crypt.VerifyLogin(login, user, binding, proof), nil
}

func (f *fakeUsers) SetLogin(user, login string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.logins == nil {
		f.logins = map[string]string{}
	}
	f.logins[user] = login
	return nil
}

type testNode struct {
	s    *Server
	addr string
	dir  string
	done chan error
}

// startNode runs a plaintext server on 127.0.0.1:0 until the test ends.
func startNode(t testing.TB, mod func(*Config)) *testNode {
	t.Helper()
	dir := t.TempDir()
	cfg := Config{Dir: dir, Name: "DFS1", Users: &fakeUsers{m: map[string]string{"alice": "Crimson33", "bob": "Velvet77"}},
		AuthTimeout: 2 * time.Second, IOTimeout: 5 * time.Second}
	if mod != nil {
		mod(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	n := &testNode{s: s, addr: ln.Addr().String(), dir: dir, done: make(chan error, 1)}
	go func() { n.done <- s.Serve(ln) }()
	t.Cleanup(func() {
		s.Close()
		if err := <-n.done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return n
}

type tclient struct {
	t  testing.TB
	nc net.Conn
	c  *wire.Conn
}

func dial(t testing.TB, addr string) *tclient {
	t.Helper()
	return dialFrom(t, "", addr)
}

// dialFrom dials addr from the local IP from ("" for any): on Linux every
// 127.x.y.z is local, so a test can play other hosts on loopback.
func dialFrom(t testing.TB, from, addr string) *tclient {
	t.Helper()
	var d net.Dialer
	if from != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(from)}
	}
	nc, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	_ = nc.SetDeadline(time.Now().Add(20 * time.Second))
	t.Cleanup(func() { nc.Close() })
	return &tclient{t: t, nc: nc, c: wire.NewConn(nc)}
}

// login dials and authenticates, failing the test on error.
func login(t testing.TB, addr, user, pw string) *tclient {
	t.Helper()
	c := dial(t, addr)
	if err := c.auth(user, pw); err != nil {
		t.Fatalf("auth %s: %v", user, err)
	}
	return c
}

// prove makes the login proof of user's password pw on connection nc.
func prove(nc net.Conn, user, pw string) string {
	return crypt.DeriveRoot(user, pw).Prove(user, wire.LoginBinding(nc))
}

func (c *tclient) auth(user, pw string) error {
	var resp wire.AuthResp
	err := c.call(wire.TypeAuth, wire.AuthReq{User: user, Proof: prove(c.nc, user, pw)}, &resp)
	if err == nil {
		c.c.SetCaps(wire.ClientCaps)
	}
	return err
}

func (c *tclient) call(t wire.Type, req, resp any) error {
	var err error
	if cr, ok := req.(wire.CommitReq); ok {
		err = c.c.SendBody(t, wire.AppendCommitReq(nil, &cr)) // COMMIT is binary
	} else {
		err = c.c.Send(t, wire.StatusOK, req)
	}
	if err != nil {
		return err
	}
	return c.c.Recv(t, resp)
}

func (c *tclient) put(upload, seg string, n int, data []byte) error {
	return c.putChunk(wire.PutChunkReq{Upload: upload, Segment: seg, Chunk: n}, data)
}

// putChunk sends data as the chunk req names (inline: kept in memory
// until its commit, else into a chunk file), with its size and SHA-256,
// and reads the reply.
func (c *tclient) putChunk(req wire.PutChunkReq, data []byte) error {
	sum := sha256.Sum256(data)
	req.Size, req.SHA256 = int64(len(data)), hex.EncodeToString(sum[:])
	if err := c.c.Send(wire.TypePutChunk, wire.StatusOK, req); err != nil {
		return err
	}
	if _, err := c.c.SendStream(bytes.NewReader(data), make([]byte, 100<<10)); err != nil {
		return err
	}
	return c.c.Recv(wire.TypePutChunk, nil)
}

func (c *tclient) get(path, seg string, n int, off, length int64) ([]byte, error) {
	return c.getChunk(wire.GetChunkReq{Path: path, Segment: seg, Chunk: n, Offset: off, Length: length})
}

func (c *tclient) getChunk(req wire.GetChunkReq) ([]byte, error) {
	var resp wire.GetChunkResp
	if err := c.call(wire.TypeGetChunk, req, &resp); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	_, err := c.c.RecvStream(&buf, resp.Size)
	return buf.Bytes(), err
}

// upload puts all chunks of all segments of data and commits them at path.
func (c *tclient) upload(path string, data []byte) (wire.Meta, []uint8, error) {
	m, up, err := c.sendChunks(data)
	if err != nil {
		return m, nil, err
	}
	held, err := c.commit(path, up, m)
	return m, held, err
}

// chunkOf returns chunk c of a segment whose bytes are data as a client
// stores it: its share of data, then core.ChunkOverhead bytes standing for
// the nonce and tag of its encryption (nodes never look into a chunk).
func chunkOf(data []byte, c int) []byte {
	b, e := core.ChunkBounds(int64(len(data)), c)
	return append(slices.Clip(data[b:e]), make([]byte, core.ChunkOverhead)...)
}

// segmentOf describes data as segment k with a new id.
func segmentOf(k int64, data []byte) wire.Segment {
	md := md5.Sum(data)
	s := wire.Segment{Index: k, ID: core.NewVersion(), Size: int64(len(data)), MD5: hex.EncodeToString(md[:])}
	for i := 0; i < core.NumChunks; i++ {
		ch := chunkOf(data, i)
		s.Chunks[i] = wire.ChunkInfo{Size: int64(len(ch)), SHA256: sha256Hex(ch)}
	}
	return s
}

// fileMeta returns the meta of a new version of a file of size bytes
// with segs.
func fileMeta(size int64, segs []wire.Segment) wire.Meta {
	ver := core.NewVersion()
	return wire.Meta{Stamp: ver, Born: ver, Version: ver, Size: size, Mode: 0o644, MTime: time.Now().UnixNano(), Segments: segs}
}

// putSegment sends the four chunks of segment s, whose bytes are data,
// under upload.
func (c *tclient) putSegment(upload string, s wire.Segment, data []byte) error {
	for i := 0; i < core.NumChunks; i++ {
		if err := c.put(upload, s.ID, i, chunkOf(data, i)); err != nil {
			return err
		}
	}
	return nil
}

// sendChunks puts all chunks of every segment of data (none left as a
// hole) under a new upload id and returns the meta of a new version of
// them and the id.
func (c *tclient) sendChunks(data []byte) (wire.Meta, string, error) {
	up := randHex(16)
	var segs []wire.Segment
	for k := int64(0); k < core.NumSegments(int64(len(data))); k++ {
		b, e := core.SegmentSpan(int64(len(data)), k)
		s := segmentOf(k, data[b:e])
		segs = append(segs, s)
		if err := c.putSegment(up, s, data[b:e]); err != nil {
			return fileMeta(int64(len(data)), segs), up, err
		}
	}
	return fileMeta(int64(len(data)), segs), up, nil
}

// readAll reads the file m back from its segments, chunk by chunk.
func (c *tclient) readAll(path string, m wire.Meta) ([]byte, error) {
	out := make([]byte, m.Size)
	for _, s := range m.Segments {
		start := s.Index * core.SegmentSize
		for i := 0; i < core.NumChunks; i++ {
			b, _ := core.ChunkBounds(s.Size, i)
			got, err := c.get(path, s.ID, i, 0, -1)
			if err != nil {
				return nil, fmt.Errorf("segment %d chunk %d: %w", s.Index, i, err)
			}
			copy(out[start+b:], got[:max(len(got)-core.ChunkOverhead, 0)])
		}
	}
	return out, nil
}

// allHeld is the Held of a meta of n segments all held.
func allHeld(n int) []uint8 {
	h := make([]uint8, n)
	for i := range h {
		h[i] = 0xf
	}
	return h
}

// commit commits upload at path as m and returns the chunks held.
func (c *tclient) commit(path, upload string, m wire.Meta) ([]uint8, error) {
	var resp wire.CommitResp
	err := c.call(wire.TypeCommit, wire.CommitReq{Path: path, Upload: upload, Meta: m}, &resp)
	return resp.Held, err
}

func (c *tclient) list(dir string, rec bool) ([]wire.Meta, []wire.Meta, error) {
	if err := c.c.Send(wire.TypeList, wire.StatusOK, wire.ListReq{Dir: dir, Recursive: rec}); err != nil {
		return nil, nil, err
	}
	var chain, out []wire.Meta
	for first := true; ; first = false {
		r, err := c.recvList()
		if err != nil {
			return nil, nil, err
		}
		if first {
			chain = r.Chain
		}
		out = append(out, r.Entries...)
		if r.Done {
			return chain, out, nil
		}
	}
}

func (c *tclient) lookup(p string) []wire.Meta {
	c.t.Helper()
	if err := c.c.Send(wire.TypeLookup, wire.StatusOK, wire.LookupReq{Path: p}); err != nil {
		c.t.Fatalf("lookup %q: %v", p, err)
	}
	body, err := c.c.RecvBody(wire.TypeLookup)
	if err != nil {
		c.t.Fatalf("lookup %q: %v", p, err)
	}
	r, err := wire.DecodeLookupResp(body)
	if err != nil {
		c.t.Fatalf("lookup %q: %v", p, err)
	}
	return r.Chain
}

func (c *tclient) updateOp(op, p string, m wire.Meta) error {
	return c.call(wire.TypeUpdate, wire.UpdateReq{Op: op, Path: p, Meta: m}, nil)
}

// status returns the status of a *wire.RemoteError, or 255 for another
// error and StatusOK for nil.
func status(err error) wire.Status {
	if err == nil {
		return wire.StatusOK
	}
	var re *wire.RemoteError
	if errors.As(err, &re) {
		return re.Status
	}
	return 255
}

func wantStatus(t testing.TB, what string, err error, want wire.Status) {
	t.Helper()
	if got := status(err); got != want {
		t.Fatalf("%s: got %v (%v), want %v", what, got, err, want)
	}
}

func testData(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7) + seed + byte(i>>16)
	}
	return b
}

// paths returns the paths of metas.
func paths(ms []wire.Meta) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Path)
	}
	return out
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// recvList reads one LIST reply batch.
func (c *tclient) recvList() (wire.ListResp, error) {
	body, err := c.c.RecvBody(wire.TypeList)
	if err != nil {
		return wire.ListResp{}, err
	}
	return wire.DecodeListResp(body)
}

// testSeg is a segment id for tests that send chunks without committing
// them as a file.
var testSeg = core.NewVersion()
