package conf

import (
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
)

// NumServers is the number of chunk nodes a client conf names, DFS1..DFS4.
const NumServers = 4

// PinPrefix starts every certificate pin: "sha256:" and 64 hex digits.
const PinPrefix = "sha256:"

// Server is one chunk node of a client conf.
type Server struct {
	Name string // DFS1..DFS4
	Addr string // HOST:PORT
	Pin  string // "" or "sha256:<64 lowercase hex>" of the node's certificate
}

// Client is a parsed dfc.conf.
type Client struct {
	Path      string   // the file it was read from (the name given to ParseClient)
	Servers   []Server // exactly NumServers, DFS1..DFS4 in order
	User      string   // "" if the file has no Username line
	Password  string   // "" if the file has no Password line
	Plaintext bool     // Transport: plaintext-insecure; TLS otherwise
	// StrictPins is "Pins: strict": a node whose Server line has no pin
	// is refused, not asked about or pinned on first contact (the default,
	// "Pins: first-contact").
	StrictPins bool
}

// LoadClient reads and parses the client conf at path.
func LoadClient(path string) (*Client, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read client conf: %w", err)
	}
	return ParseClient(path, data)
}

// ParseClient parses the contents of a client conf; name is used in errors
// and as Client.Path.
//
// A Password line's value is the rest of the line with surrounding
// whitespace removed, '#' included; other lines may end in a " # comment".
func ParseClient(name string, data []byte) (*Client, error) {
	c, _, err := parseClient(name, data)
	return c, err
}

// serverLine locates the parts of a Server line that SetPin rewrites.
type serverLine struct {
	index   int // line index in splitLines
	addrEnd int // byte offset in the line body just after the address
	pinEnd  int // byte offset after the pin (== addrEnd when there is no pin)
}

func parseClient(name string, data []byte) (*Client, []serverLine, error) {
	c := &Client{Path: name}
	var locs []serverLine
	seen := map[string]int{} // lower-case key -> first line, for Username/Password/Transport/Pins
	for i, line := range splitLines(data) {
		n := i + 1
		body := lineBody(line)
		if isBlankOrComment(body) {
			continue
		}
		key, value, off, err := splitKey(body)
		if err != nil {
			return nil, nil, lineError(name, n, "%v", err)
		}
		lkey := strings.ToLower(key)
		switch lkey {
		case "server":
		case "username", "password", "transport", "pins":
			if first, dup := seen[lkey]; dup {
				return nil, nil, lineError(name, n, "second %s line (first on line %d)", key, first)
			}
			seen[lkey] = n
		default:
			return nil, nil, lineError(name, n, "unknown key %q (want Server, Username, Password, Transport or Pins)", clip(key))
		}
		switch lkey {
		case "server":
			s, loc, err := parseServerLine(value, off, len(c.Servers))
			if err != nil {
				return nil, nil, lineError(name, n, "%v", err)
			}
			loc.index = i
			c.Servers = append(c.Servers, s)
			locs = append(locs, loc)
		case "username":
			u := stripComment(value)
			if err := ValidUserName(u); err != nil {
				return nil, nil, lineError(name, n, "%v", err)
			}
			c.User = u
		case "password":
			pw := strings.Trim(value, " \t")
			if pw == "" {
				return nil, nil, lineError(name, n, "empty password (leave the line out to be asked)")
			}
			if strings.ContainsFunc(pw, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
				return nil, nil, lineError(name, n, "password has a control character")
			}
			c.Password = pw
		case "transport":
			switch t := stripComment(value); strings.ToLower(t) {
			case "tls":
				c.Plaintext = false
			case "plaintext-insecure":
				c.Plaintext = true
			default:
				return nil, nil, lineError(name, n, "unknown transport %q (want tls or plaintext-insecure)", clip(t))
			}
		case "pins":
			switch p := stripComment(value); strings.ToLower(p) {
			case "first-contact":
				c.StrictPins = false
			case "strict":
				c.StrictPins = true
			default:
				return nil, nil, lineError(name, n, "unknown Pins value %q (want first-contact or strict)", clip(p))
			}
		}
	}
	if len(c.Servers) != NumServers {
		return nil, nil, fmt.Errorf("%s: %d Server lines, want %d (DFS1..DFS%d)", name, len(c.Servers), NumServers, NumServers)
	}
	// Two names for one node would put both copies of a chunk on it: the
	// loss of that node would then lose files.
	for i, s := range c.Servers {
		for j := range i {
			if strings.EqualFold(c.Servers[j].Addr, s.Addr) {
				return nil, nil, lineError(name, locs[i].index+1, "%s has the address of %s, %s: every node needs its own, or one node would hold both copies of some chunks", s.Name, c.Servers[j].Name, s.Addr)
			}
		}
	}
	return c, locs, nil
}

// parseServerLine parses the value of a Server line ("DFS1 HOST:PORT [PIN]
// [# comment]"), which is the have-th Server line seen so far (0-based). off
// is the value's offset in the line body, to report positions in the body.
func parseServerLine(value string, off, have int) (Server, serverLine, error) {
	if have >= NumServers {
		return Server{}, serverLine{}, fmt.Errorf("more than %d Server lines (want DFS1..DFS%d)", NumServers, NumServers)
	}
	toks, offs := fieldsBeforeComment(value)
	if len(toks) < 2 {
		return Server{}, serverLine{}, fmt.Errorf("server line %q is short (want Server DFSn HOST:PORT [sha256:PIN])", clip(strings.TrimSpace(value)))
	}
	if len(toks) > 3 {
		return Server{}, serverLine{}, fmt.Errorf("unexpected %q after the server pin", clip(toks[3]))
	}
	want := fmt.Sprintf("DFS%d", have+1)
	if toks[0] != want {
		return Server{}, serverLine{}, fmt.Errorf("server name %q, want %s (servers are DFS1..DFS%d in order)", clip(toks[0]), want, NumServers)
	}
	if err := checkAddr(toks[1]); err != nil {
		return Server{}, serverLine{}, err
	}
	s := Server{Name: toks[0], Addr: toks[1]}
	loc := serverLine{addrEnd: off + offs[1] + len(toks[1])}
	loc.pinEnd = loc.addrEnd
	if len(toks) == 3 {
		pin, err := normalizePin(toks[2])
		if err != nil {
			return Server{}, serverLine{}, err
		}
		s.Pin = pin
		loc.pinEnd = off + offs[2] + len(toks[2])
	}
	return s, loc, nil
}

// fieldsBeforeComment splits v at spaces and tabs, stopping at a field that
// starts with '#', and returns the fields with their byte offsets in v.
func fieldsBeforeComment(v string) (toks []string, offs []int) {
	i := 0
	for i < len(v) {
		for i < len(v) && (v[i] == ' ' || v[i] == '\t') {
			i++
		}
		if i == len(v) || v[i] == '#' {
			break
		}
		start := i
		for i < len(v) && v[i] != ' ' && v[i] != '\t' {
			i++
		}
		toks = append(toks, v[start:i])
		offs = append(offs, start)
	}
	return toks, offs
}

// checkAddr checks that addr is HOST:PORT with a non-empty host and a port
// in 1..65535.
func checkAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		if !strings.Contains(addr, ":") {
			return fmt.Errorf("server address %q has no port (want HOST:PORT)", clip(addr))
		}
		return fmt.Errorf("server address %q: %v (want HOST:PORT)", clip(addr), err)
	}
	if host == "" {
		return fmt.Errorf("server address %q has no host (want HOST:PORT)", clip(addr))
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil || p == 0 {
		return fmt.Errorf("server address %q has bad port %q (want 1..65535)", clip(addr), clip(port))
	}
	return nil
}

// normalizePin checks a "sha256:<64 hex>" pin and returns it with lowercase
// hex digits.
func normalizePin(pin string) (string, error) {
	if len(pin) < len(PinPrefix) || !strings.EqualFold(pin[:len(PinPrefix)], PinPrefix) {
		return "", fmt.Errorf("server pin %q does not start with %s", clip(pin), PinPrefix)
	}
	h := pin[len(PinPrefix):]
	if b, err := hex.DecodeString(h); err != nil || len(b) != 32 {
		return "", fmt.Errorf("server pin %q is not %s and 64 hex digits", clip(pin), PinPrefix)
	}
	return PinPrefix + strings.ToLower(h), nil
}
