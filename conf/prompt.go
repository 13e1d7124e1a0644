package conf

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/term"
)

// maxPasswordLine bounds a password read from a pipe or file.
const maxPasswordLine = 4096

// ReadPassword reads a password from in. If in is a terminal it prints
// prompt to out and reads without echo; otherwise it reads one line (without
// its "\n" or "\r\n") and prints nothing, so scripts can pipe a password in.
func ReadPassword(prompt string, in *os.File, out io.Writer) (string, error) {
	if fd := int(in.Fd()); term.IsTerminal(fd) {
		fmt.Fprint(out, prompt)
		pw, err := term.ReadPassword(fd)
		fmt.Fprintln(out)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		return string(pw), nil
	}
	return readLine(in)
}

// ReadNewPassword reads a new, non-empty password from in: twice on a
// terminal (they must match), once from a pipe or file.
func ReadNewPassword(in *os.File, out io.Writer) (string, error) {
	pw, err := ReadPassword("New password: ", in, out)
	if err != nil {
		return "", err
	}
	if pw == "" {
		return "", errors.New("empty password")
	}
	if term.IsTerminal(int(in.Fd())) {
		again, err := ReadPassword("Retype new password: ", in, out)
		if err != nil {
			return "", err
		}
		if again != pw {
			return "", errors.New("passwords do not match")
		}
	}
	return pw, nil
}

// readLine reads one line byte by byte, so that nothing after it is consumed
// from in.
func readLine(in io.Reader) (string, error) {
	var line []byte
	var b [1]byte
	for {
		n, err := in.Read(b[:])
		if n == 1 {
			if b[0] == '\n' {
				break
			}
			if len(line) >= maxPasswordLine {
				return "", fmt.Errorf("password line longer than %d bytes", maxPasswordLine)
			}
			line = append(line, b[0])
			continue
		}
		if err == io.EOF {
			if len(line) == 0 {
				return "", errors.New("read password: no input")
			}
			break
		}
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
	}
	return string(bytes.TrimSuffix(line, []byte("\r"))), nil
}
