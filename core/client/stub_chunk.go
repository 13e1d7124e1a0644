package client

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"dfs/core"
	"dfs/core/wire"
)

// chunkData writes a chunk's bytes into w, a node's data stream (each write
// goes out as data frames), and returns the chunk's SHA-256 in hex: the one
// known before, or the one computed while the bytes were read.
type chunkData func(w io.Writer) (sum string, err error)

// bytesData is a chunk held in memory, whose SHA-256 is known.
func bytesData(p []byte, sum string) chunkData {
	return func(w io.Writer) (string, error) {
		_, err := w.Write(p)
		return sum, err
	}
}

// dataStream is the data stream of the request being written on conn.
type dataStream struct{ conn *wire.Conn }

func (d dataStream) Write(p []byte) (int, error) {
	if err := d.conn.WriteData(p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// sendChunk sends one chunk into the node's staging area (PUT_CHUNK) and
// returns whether the node holds a live entry at req.Path. req names the
// upload, the chunk, its size and, when known before, its SHA-256; the
// rest of the request is the stub's to set (writeChunk). The node's answer
// must carry the SHA-256 sent. The node may be silent for Config.IOTimeout:
// before it takes each piece of data and before it answers.
func (s *stub) sendChunk(req wire.PutChunkReq, data chunkData) (exists bool, err error) {
	s.conn.SetIdle(s.io)
	s.conn.SetDeadline(time.Now().Add(s.io))
	sum, err := s.writeChunk(req, data)
	if err != nil {
		return false, err
	}
	if err := s.conn.Flush(); err != nil {
		return false, err
	}
	s.conn.SetDeadline(time.Now().Add(s.io))
	return s.chunkReply(req.Chunk, sum)
}

// writeChunk writes a PUT_CHUNK request, the chunk's data stream and, when
// the hash was computed while sending, a trailer with it, without flushing;
// it returns the chunk's SHA-256. A chunk small enough travels inline (kept
// in the node's memory until the commit); over TLS a chunk whose hash is not
// known before has it sent after the data (see wire.PutChunkReq).
func (s *stub) writeChunk(req wire.PutChunkReq, data chunkData) (string, error) {
	req.Inline = req.Size <= wire.MaxInlineChunk
	req.Trailer = s.trailer && !req.Inline && req.SHA256 == ""
	var err error
	if req.Path, err = s.encPath(req.Path); err != nil {
		return "", err
	}
	if err := s.conn.Write(wire.TypePutChunk, wire.StatusOK, req); err != nil {
		return "", err
	}
	sum, err := data(dataStream{s.conn})
	if err != nil {
		return "", err
	}
	if err := s.conn.WriteEnd(); err != nil {
		return "", err
	}
	if req.Trailer {
		if err := s.conn.Write(wire.TypePutChunk, wire.StatusOK, wire.PutChunkTrailer{SHA256: sum}); err != nil {
			return "", err
		}
	}
	return sum, nil
}

// chunkReply reads the answer to a chunk sent, whose SHA-256 was sum.
func (s *stub) chunkReply(ch int, sum string) (exists bool, err error) {
	var resp wire.PutChunkResp
	if err := s.conn.Recv(wire.TypePutChunk, &resp); err != nil {
		return false, err
	}
	if !strings.EqualFold(resp.SHA256, sum) {
		return false, fmt.Errorf("%w: the node received chunk %d with SHA-256 %s, sent %s", core.ErrCorrupt, ch+1, resp.SHA256, sum)
	}
	return resp.Exists, nil
}

// sendSmall sends a small file's chunks for this node and, right behind
// them, its commit (conditional: see wire.CommitReq.New and Need), in one
// exchange: one flush, then the answers, all within Config.IOTimeout. It
// returns the node's first refusal of a chunk, its answer to the commit
// and the chunks it holds after it; err is a failure of the exchange
// itself, after which the connection is out of step.
func (s *stub) sendSmall(reqs []wire.PutChunkReq, data []chunkData, commit wire.CommitReq) (sendErr, commitErr error, held []uint8, err error) {
	s.conn.SetIdle(s.io)
	s.conn.SetDeadline(time.Now().Add(s.io))
	sums := make([]string, len(reqs))
	for i, req := range reqs {
		if sums[i], err = s.writeChunk(req, data[i]); err != nil {
			return nil, nil, nil, err
		}
	}
	enc, err := s.writeCommit(commit)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := s.conn.Flush(); err != nil {
		return nil, nil, nil, err
	}
	for i, req := range reqs {
		_, err := s.chunkReply(req.Chunk, sums[i])
		if !isRefusal(err) {
			return nil, nil, nil, err
		}
		sendErr = firstErr(sendErr, err)
	}
	held, err = s.commitReply()
	if !isRefusal(err) {
		return nil, nil, nil, err
	}
	return sendErr, plainErr(err, commit.Path, enc), held, nil
}

// isRefusal reports whether err is nil or the node's refusal of a request,
// which leaves the connection in step.
func isRefusal(err error) bool {
	var re *wire.RemoteError
	return err == nil || errors.As(err, &re)
}

// getChunk asks for a range of a chunk (GET_CHUNK) and streams it into w.
// The node may be silent for idle: before it answers and between pieces of
// data.
func (s *stub) getChunk(req wire.GetChunkReq, w io.Writer, idle time.Duration) (int64, error) {
	if err := s.startGet(req, idle); err != nil {
		return 0, err
	}
	return s.conn.RecvStream(w, req.Length)
}

// getChunkInto is getChunk straight into p, asking for len(p) bytes; it
// returns how many came.
func (s *stub) getChunkInto(req wire.GetChunkReq, p []byte, idle time.Duration) (int, error) {
	req.Length = int64(len(p))
	if err := s.startGet(req, idle); err != nil {
		return 0, err
	}
	return s.conn.RecvStreamInto(p)
}

// startGet sends a GET_CHUNK request and reads the reply that comes before
// the data.
func (s *stub) startGet(req wire.GetChunkReq, idle time.Duration) error {
	var err error
	if req.Path, err = s.encPath(req.Path); err != nil {
		return err
	}
	s.conn.SetIdle(idle)
	s.conn.SetDeadline(time.Now().Add(idle))
	if err := s.conn.Send(wire.TypeGetChunk, wire.StatusOK, req); err != nil {
		return err
	}
	var resp wire.GetChunkResp
	return s.conn.Recv(wire.TypeGetChunk, &resp)
}
