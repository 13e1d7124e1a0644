package wire

import (
	"time"

	"dfs/core"
)

// The JSON bodies of control frames. One request frame gets one reply frame
// of the same type, except where a data stream or a batch stream follows
// (see docs/protocol.md).

// ErrorMsg is the body of any reply whose status is not OK.
type ErrorMsg struct {
	Message string `json:"message"`
}

// AuthReq opens every connection. Proof is crypt.Root.Prove(User,
// LoginBinding(conn)): it shows the client knows the password without
// sending it, and is good on this connection only.
type AuthReq struct {
	User  string `json:"user"`
	Proof string `json:"proof"`
}

// MaxLoginDelay is the longest a node holds back its reply to a wrong
// password (AUTH, or PASSWD's old password; docs/security.md, Logins).
// Clients wait that much longer for those replies than for others, so that a
// refusal arrives as one and not as a node that stopped answering.
const MaxLoginDelay = 8 * time.Second

// AuthResp answers a successful AuthReq.
type AuthResp struct {
	Node    string `json:"node"`    // the node's data folder name, for logs
	Version string `json:"version"` // dfsnode build version
}

// ChunkInfo describes one of a segment's four chunks.
type ChunkInfo struct {
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"` // hex
}

// Segment is one stored segment of a file version (docs/format.md,
// Segments): the bytes [Index*core.SegmentSize, Index*core.SegmentSize+Size)
// of the file, split into four chunks as core.ChunkBounds(Size, i) says and
// placed by x = core.PlacementX(MD5). The rest of the segment's span, up to
// the next segment or the file's end, reads as zeros. ID names the stored
// segment on the nodes: versions that share the segment name the same ID,
// and a node keeps its chunk files as long as a version it holds refers to
// it (plus the grace period).
type Segment struct {
	Index  int64                     `json:"index"` // position in the file, in segments
	ID     string                    `json:"id"`    // a version id (core.NewVersion) made when the segment was first stored
	Size   int64                     `json:"size"`  // bytes stored, 1..the segment's span
	MD5    string                    `json:"md5"`   // of the Size bytes, hex: decides the placement
	Chunks [core.NumChunks]ChunkInfo `json:"chunks"`
}

// Meta is one entry (file, folder or tombstone) of a user's namespace as
// clients and nodes tell each other of it: in COMMIT and UPDATE requests,
// LIST and LOOKUP replies. Stamps and versions are version ids (see
// core.NewVersion): they sort by time as strings. (A node keeps entries in
// a record of its own, see node/store.)
//
// A file's content is Size bytes: the stored Segments, sorted by Index, and
// zeros everywhere else (holes: a segment that is not listed, and the end
// of a segment's span past its Size). An empty file has no segments.
type Meta struct {
	Path     string    `json:"path,omitempty"` // set in LIST and LOOKUP replies
	Dir      bool      `json:"dir,omitempty"`
	Deleted  bool      `json:"deleted,omitempty"`
	Stamp    string    `json:"stamp"`             // last change of this entry; the newest stamp wins
	Born     string    `json:"born"`              // creation of the name; older children are stale
	Version  string    `json:"version,omitempty"` // content version: names this list of segments
	Size     int64     `json:"size"`
	Mode     uint32    `json:"mode"`             // the 12 permission bits, and the type bits of a special entry (attrs.go)
	MTime    int64     `json:"mtime"`            // unix nanoseconds
	UID      uint32    `json:"uid,omitempty"`    // numeric owner, stored as given
	GID      uint32    `json:"gid,omitempty"`    // numeric group, stored as given
	ATime    int64     `json:"atime,omitempty"`  // unix ns; 0 (older entries): as MTime
	CTime    int64     `json:"ctime,omitempty"`  // unix ns, last change of content or attributes; 0: as MTime
	Target   string    `json:"target,omitempty"` // a symlink's target (Mode has ModeSymlink)
	Segments []Segment `json:"segments,omitempty"`
	// Seal authenticates the entry with the user's key (core/crypt,
	// SealEntry): made by the client that wrote the entry, kept and
	// returned by nodes as they got it, checked by every client reading
	// it. Nodes never check it (they have no key), but refuse one longer
	// than MaxSeal.
	Seal string `json:"seal,omitempty"`
	// SealedTarget is, in clients only and never on the wire, a symlink's
	// target as the nodes store it (encrypted, core/crypt), which Seal
	// covers: above the client's connection to a node, Target is the
	// plaintext, and the connection puts SealedTarget in its place.
	SealedTarget string `json:"-"`
	// Held, in replies only, says which chunks of Segments this node
	// holds, good as far as it knows: bit c of Held[i] is chunk c of
	// Segments[i]. nil in requests.
	Held []uint8 `json:"held,omitempty"`
}

// MaxSeal is the longest Meta.Seal a node takes: a seal is 43 bytes
// (base64url of an HMAC-SHA256); the cap leaves room to change it and
// keeps a client from storing anything large in it.
const MaxSeal = 64

// MaxInlineChunk is the largest chunk a node keeps inside the entry's meta
// rather than in a chunk file of its own: 8 KiB of a file's bytes, stored
// encrypted (core.ChunkOverhead more), so files up to 32 KiB go inline.
const MaxInlineChunk = 8<<10 + core.ChunkOverhead

// PutChunkReq starts the upload of one chunk of a segment into the node's
// staging area, under Upload (one upload may carry any number of segments,
// committed together by one CommitReq); Size bytes
// of data frames and an empty data frame follow. The reply (PutChunkResp)
// comes once the node has written the chunk (it reaches the node's disk with
// the next flush, see Sync). With SHA256 set the node checks the data
// against it; left empty (a client that hashes while it sends), the node
// returns the SHA-256 it computed and the client compares.
//
// With Inline (Size at most MaxInlineChunk) the node keeps the chunk in
// memory until the commit, which stores it inside the entry's meta: a small
// file costs each node one file written instead of three. An inline chunk
// whose commit never comes (or comes after a node restart) is forgotten.
//
// Path, when set, names the entry the upload is for: the reply then says
// whether the node holds a live file or folder there, so a client storing a
// new file can commit it on every node at once (no previous version to
// keep whole).
//
// With Trailer (over TLS only, and not for inline chunks) the client sends
// the SHA-256 after the data, in one more PUT_CHUNK frame (PutChunkTrailer),
// having hashed the data as it sent it; the node keeps that hash without
// hashing again: TLS protects the transfer, the CRC-32C the node computes
// per block as the data arrives protects it at rest, and whole-chunk reads
// and the scrub check the SHA-256.
type PutChunkReq struct {
	Upload  string `json:"upload"`  // random id of this upload, 32 hex
	Segment string `json:"segment"` // the segment's ID (Segment.ID)
	Chunk   int    `json:"chunk"`   // 0..3
	Size    int64  `json:"size"`
	SHA256  string `json:"sha256"`
	Inline  bool   `json:"inline,omitempty"`
	Path    string `json:"path,omitempty"`
	Trailer bool   `json:"trailer,omitempty"`
}

// PutChunkTrailer follows the data of a PutChunkReq with Trailer.
type PutChunkTrailer struct {
	SHA256 string `json:"sha256"`
}

// PutChunkResp answers a PutChunkReq with the SHA-256 of the data received
// and, when the request named a Path, whether a live entry is there.
type PutChunkResp struct {
	SHA256 string `json:"sha256"`
	Exists bool   `json:"exists,omitempty"`
}

// CommitReq (binary on the wire: AppendCommitReq) makes an uploaded
// version current for Path: staged chunks of
// Upload move into place and Meta replaces the entry, unless the node holds a
// newer stamp (StatusStale). Meta.Stamp equal to the current stamp with the
// same Version adds chunks to it (heal).
//
// Without Sync the reply comes once the change is applied (other clients see
// it); it reaches the node's disk with the node's next flush, a fraction of
// a second later. With Sync the reply waits for that flush (group commit).
//
// The meta's segments come from the upload (staged under Upload) or are
// shared with versions the node already holds (an unchanged segment keeps
// its ID); a segment the node has neither way is not held (Held says so,
// and heal brings it).
//
// New and Need make the commit conditional, so that a client can send it
// right behind the upload without waiting for the upload's replies: with
// New the node applies it only if it holds no live entry at Path (else
// StatusExist), with Need only if the upload gave it those chunks (else
// StatusIncomplete; Need lists 4*i+c for chunk c of Meta.Segments[i]); a
// refused commit changes nothing.
type CommitReq struct {
	Path   string `json:"path"`
	Upload string `json:"upload,omitempty"`
	Meta   Meta   `json:"meta"`
	Sync   bool   `json:"sync,omitempty"`
	New    bool   `json:"new,omitempty"`
	Need   []int  `json:"need,omitempty"`
}

// CommitResp answers a CommitReq: Held as in Meta, the chunks of the new
// version's segments this node holds.
type CommitResp struct {
	Held []uint8 `json:"held"`
}

// GetChunkReq asks for Length bytes (all when Length < 0) of chunk Chunk
// of the stored segment Segment (an ID), from Offset. Path names an entry
// that refers to the segment: a node looks there for chunks kept inline.
// With Upload set, the chunk is one staged by that upload and not yet
// committed (a writer reading back what it sent; chunk files only, not
// inline chunks). The reply is a GetChunkResp, then data frames, then an
// empty data frame; a checksum failure mid-stream is a reply frame with
// StatusCorrupt.
type GetChunkReq struct {
	Path    string `json:"path"`
	Upload  string `json:"upload,omitempty"`
	Segment string `json:"segment"`
	Chunk   int    `json:"chunk"`
	Offset  int64  `json:"offset"`
	Length  int64  `json:"length"`
}

// GetChunkResp precedes the data of a GetChunkReq.
type GetChunkResp struct {
	Size   int64  `json:"size"` // the whole chunk's size
	SHA256 string `json:"sha256"`
}

// ListReq asks for the entries under Dir ("" is the user's root): its
// children, or every descendant when Recursive. Tombstones are included.
type ListReq struct {
	Dir       string `json:"dir"`
	Recursive bool   `json:"recursive"`
}

// ListResp is one batch of a LIST reply; batches follow until one with Done.
// The first batch carries Chain, the metas of Dir and its ancestors (root
// first), so the client can drop stale entries.
type ListResp struct {
	Chain   []Meta `json:"chain,omitempty"`
	Entries []Meta `json:"entries"`
	Done    bool   `json:"done"`
}

// LookupReq asks for one entry.
type LookupReq struct {
	Path string `json:"path"`
}

// LookupResp holds the metas of Path's ancestors and Path itself, root first;
// it ends early where the node has no entry.
type LookupResp struct {
	Chain []Meta `json:"chain"`
}

// Update kinds.
const (
	UpdateMkdir   = "mkdir"   // create a folder entry
	UpdateSetattr = "setattr" // change the attributes (mode, uid, gid, mtime, atime, ctime) of an entry, same content
	UpdateDelete  = "delete"  // tombstone a file (its chunks are removed)
	UpdateRmdir   = "rmdir"   // tombstone a folder; refused if it has live children (see UpdateReq.Heal)
)

// UpdateReq changes one entry's metadata. It applies only if Meta.Stamp is
// newer than the node's (else StatusStale), so replays are harmless.
// Sync is as in CommitReq. Meta.Segments is ignored, and clients leave it
// empty: a setattr keeps the node's segments, and a big file's list would
// not fit MaxControlFrame.
//
// Heal marks heal bringing a node that missed changes in line with the
// merged view, where the node may remove what that view already ignores:
// a mkdir then also replaces a live folder at the name that has another
// Born (an earlier folder, or one the node made itself for a change below
// it), with the same stamp too when its Born is newer, and removes the
// entries under it older than the new Born; an rmdir is not blocked by live
// entries older than it (removed on the other nodes while this one was
// away) and removes them. Without it a mkdir over a live folder is
// StatusExist and an rmdir over any live entry StatusNotEmpty. Nodes that
// predate the field ignore it.
type UpdateReq struct {
	Op   string `json:"op"`
	Path string `json:"path"`
	Meta Meta   `json:"meta"`
	Sync bool   `json:"sync,omitempty"`
	Heal bool   `json:"heal,omitempty"`
}

// RenameReq moves an entry (a folder with everything under it) from From to
// To, replacing an entry at To, and leaves a tombstone stamped Stamp at From.
// The moved entry is restamped Stamp, its CTime becomes
// core.VersionTime(Stamp), and it takes Seal; the tombstone is {Dir: what
// From was, Deleted, Stamp, Born: Stamp} with TombSeal (the client sealed
// both as the node will store them). Sync is as in CommitReq.
type RenameReq struct {
	From     string `json:"from"`
	To       string `json:"to"`
	Stamp    string `json:"stamp"`
	Seal     string `json:"seal,omitempty"`
	TombSeal string `json:"tomb_seal,omitempty"`
	Sync     bool   `json:"sync,omitempty"`
}

// InfoReq asks for the node's state; it has no fields.
type InfoReq struct{}

// InfoResp describes a node.
type InfoResp struct {
	Node       string `json:"node"`
	Version    string `json:"version"`
	TotalBytes uint64 `json:"total_bytes"`
	FreeBytes  uint64 `json:"free_bytes"`
	Quarantine int    `json:"quarantine"`      // bad chunks set aside by scrub or reads
	Started    int64  `json:"started"`         // unix ns the node process started: a change means a restart
	Used       uint64 `json:"used"`            // bytes the asking user holds on this node (docs/security.md, Quotas)
	Quota      uint64 `json:"quota,omitempty"` // the asking user's quota on this node; 0: none
}

// PasswdReq changes the authenticated user's password on this node: Login
// is the new password's verifier (crypt.Root.Login) and Key the master key
// wrapped by the new password. Like KeyPutReq, it changes nothing unless
// the node's key is Expect (StatusStale).
type PasswdReq struct {
	Login  string `json:"login"`
	Key    []byte `json:"key"`
	Expect []byte `json:"expect"`
}

// KeyGetReq asks for the user's wrapped master key (KEY_GET); the reply is
// a KeyResp.
type KeyGetReq struct{}

// KeyPutReq stores the user's wrapped master key (KEY_PUT) if the node's
// is Expect (nil: if it has none): a compare-and-swap, so that two first
// logins racing, or a client healing a node, never overwrite a key they
// did not see. The reply is a KeyResp with the node's key after the
// request, whether it was stored or not.
type KeyPutReq struct {
	Key    []byte `json:"key"`
	Expect []byte `json:"expect,omitempty"`
}

// KeyResp carries the user's wrapped master key as a node holds it; nil
// when it holds none.
type KeyResp struct {
	Key []byte `json:"key,omitempty"`
}

// PurgeReq removes the tombstone at Path if its stamp is still Stamp. Heal
// sends it once every node holds the tombstone.
//
// With Forged, the entry at Path (a file, symlink, special entry or
// tombstone, or a folder with nothing under it) goes if its stamp is still
// Stamp, live or not: the client found that it fails authentication with
// the user's key (a data folder changed outside dfs) and that it bars the
// true version, stamped older, from the node. Heal sends it, then the true
// version. A node cannot tell a forgery (it has no key): it trusts the
// user's own client, as it does with any change of the user's.
type PurgeReq struct {
	Path   string `json:"path"`
	Stamp  string `json:"stamp"`
	Forged bool   `json:"forged,omitempty"`
}

// ScanReq asks the node to verify the checksums of the user's chunks now.
type ScanReq struct{}

// ScanResp reports a scan.
type ScanResp struct {
	Checked int      `json:"checked"`
	Bad     []string `json:"bad"` // "<segment id>.c<N>" set aside in quarantine
}

// SyncReq asks the node to make everything it acknowledged before it
// durable (on its disk) before replying with Empty: what fsync(2) of a file
// or folder on a mount sends to every node.
type SyncReq struct{}

// DropReq abandons Upload, whose commit will not come (a put that failed
// before committing): the node removes its staged chunks now rather than
// after the staging timeout, so that they stop counting against the user's
// quota. The reply is Empty, whether or not anything was staged.
type DropReq struct {
	Upload string `json:"upload"`
}

// Empty is the body of replies that carry nothing.
type Empty struct{}
