package conf

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"unicode/utf8"

	"golang.org/x/term"
)

// maxPasswordLine bounds a password (or an answer) read from a pipe or file.
const maxPasswordLine = 4096

// ReadPassword reads a password from in. If in is a terminal it prints
// prompt to out and reads without echo; otherwise it reads one line (without
// its "\n" or "\r\n") and prints nothing, so scripts can pipe a password in.
func ReadPassword(prompt string, in *os.File, out io.Writer) (string, error) {
	if fd := int(in.Fd()); term.IsTerminal(fd) {
		fmt.Fprint(out, prompt)
		pw, err := readPasswordInterruptible(fd)
		fmt.Fprintln(out)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		return string(pw), nil
	}
	return readLine(in, "password")
}

// MinPasswordLength is the fewest characters a new password may have. A
// node's failed-login throttle slows guessing down but cannot make a short
// password safe: eight characters is NIST SP 800-63B's floor for a password
// a person chooses.
const MinPasswordLength = 8

// ReadNewPassword reads a new password of at least MinPasswordLength
// characters from in: twice on a terminal (they must match), once from a
// pipe or file.
func ReadNewPassword(in *os.File, out io.Writer) (string, error) {
	pw, err := ReadPassword("New password: ", in, out)
	if err != nil {
		return "", err
	}
	if pw == "" {
		return "", errors.New("empty password")
	}
	if n := utf8.RuneCountInString(pw); n < MinPasswordLength {
		return "", fmt.Errorf("password too short: %d characters, want at least %d", n, MinPasswordLength)
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

// AskYesNo asks question on out and reads answers from in until one is
// yes or no (y and n do too, in any case); the end of input is no. It is
// for questions that a person must answer: the caller checks that in is a
// terminal.
func AskYesNo(question string, in io.Reader, out io.Writer) (bool, error) {
	fmt.Fprint(out, question)
	for {
		line, err := readLineInterruptible(in, "answer")
		if err != nil {
			fmt.Fprintln(out)
			if errors.Is(err, errNoInput) {
				return false, nil
			}
			return false, err
		}
		switch strings.ToLower(strings.TrimSpace(line)) {
		case "yes", "y":
			return true, nil
		case "no", "n":
			return false, nil
		}
		fmt.Fprint(out, "Please type yes or no: ")
	}
}

// errNoInput is the end of input before a line.
var errNoInput = errors.New("no input")

// readLine reads one line byte by byte, so that nothing after it is consumed
// from in; what names it in errors.
func readLine(in io.Reader, what string) (string, error) {
	var line []byte
	var b [1]byte
	for {
		n, err := in.Read(b[:])
		if n == 1 {
			if b[0] == '\n' {
				break
			}
			if len(line) >= maxPasswordLine {
				return "", fmt.Errorf("%s line longer than %d bytes", what, maxPasswordLine)
			}
			line = append(line, b[0])
			continue
		}
		if err == io.EOF {
			if len(line) == 0 {
				return "", fmt.Errorf("read %s: %w", what, errNoInput)
			}
			break
		}
		if err != nil {
			return "", fmt.Errorf("read %s: %w", what, err)
		}
	}
	return string(bytes.TrimSuffix(line, []byte("\r"))), nil
}

// readPasswordInterruptible is term.ReadPassword that Ctrl-C ends: the
// commands catch SIGINT to cancel their work, so the signal alone would
// leave the prompt waiting. On SIGINT it restores the terminal's echo and
// returns context.Canceled; the read left behind ends with the process.
func readPasswordInterruptible(fd int) ([]byte, error) {
	state, err := term.GetState(fd)
	if err != nil {
		return nil, err
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt)
	defer signal.Stop(sig)
	type result struct {
		pw  []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		pw, err := term.ReadPassword(fd)
		done <- result{pw, err}
	}()
	select {
	case r := <-done:
		return r.pw, r.err
	case <-sig:
		term.Restore(fd, state)
		return nil, context.Canceled
	}
}

// readLineInterruptible is readLine that Ctrl-C ends with context.Canceled,
// for questions asked while the command catches SIGINT to cancel its work.
func readLineInterruptible(in io.Reader, what string) (string, error) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt)
	defer signal.Stop(sig)
	type result struct {
		line string
		err  error
	}
	done := make(chan result, 1)
	go func() {
		line, err := readLine(in, what)
		done <- result{line, err}
	}()
	select {
	case r := <-done:
		return r.line, r.err
	case <-sig:
		return "", context.Canceled
	}
}
