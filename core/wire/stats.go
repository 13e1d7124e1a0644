package wire

// What a Conn counts for metrics: the bytes that crossed it and the type of
// the request it last wrote, read by whoever took a connection for a
// request (the client's pool, the node's session) before and after it.

// countReader counts what the buffered reader takes from the connection.
type countReader struct{ c *Conn }

func (r countReader) Read(p []byte) (int, error) {
	n, err := r.c.nc.Read(p)
	r.c.in.Add(int64(n))
	return n, err
}

// countWriter counts what the buffered writer gives the connection.
type countWriter struct{ c *Conn }

func (w countWriter) Write(p []byte) (int, error) {
	n, err := w.c.nc.Write(p)
	w.c.out.Add(int64(n))
	return n, err
}

// Take returns the bytes read and written since its last call (since the
// connection opened, the first time), so that each request is counted
// with what it moved and every byte is counted once, even those a
// buffered read took ahead of the request they belong to.
func (c *Conn) Take() (in, out int64) {
	i, o := c.in.Load(), c.out.Load()
	return i - c.takenIn.Swap(i), o - c.takenOut.Swap(o)
}

// LastSent returns the type of the last message frame written (Send, Write),
// 0 before the first: on a client, the request it last made.
func (c *Conn) LastSent() Type { return Type(c.lastSent.Load()) }
