package atline

import (
	"errors"
	"io"
)

// Reader splits a byte stream into lines and messages. It resynchronises
// on its own after garbage:
//
//   - CR, LF and CRLF end a line; empty lines are skipped.
//   - A line longer than MaxLineLen is dropped up to its terminator and
//     reported once as ErrLineTooLong.
//   - A run of control or non-ASCII bytes (line noise, an Arduino reset)
//     ends the line it interrupts, which is reported as ErrBadByte, and
//     the next line starts after it. So "\xff\x00READY\r\n" still yields
//     READY.
//
// A Reader is not safe for concurrent use.
type Reader struct {
	r        io.Reader
	buf      [256]byte
	start    int
	end      int
	readErr  error // from r, returned once buf is drained
	line     [MaxLineLen]byte
	n        int  // bytes in line
	overlong bool // dropping bytes up to the next terminator
	noise    int  // 1-based column of the first bad byte in line, or 0
	afterCR  bool // an LF next completes a CRLF
}

// NewReader returns a Reader reading from r.
func NewReader(r io.Reader) *Reader { return &Reader{r: r} }

// maxEmptyReads bounds reads that return neither data nor error.
const maxEmptyReads = 100

// ReadLine returns the next non-empty line without its terminator. The
// slice is valid until the next call. A *SyntaxError concerns one line and
// the next call continues after it; any other error comes from the
// underlying reader (io.ErrUnexpectedEOF if a line was cut short) and is
// returned again by every later call.
func (r *Reader) ReadLine() ([]byte, error) {
	for {
		if r.start == r.end {
			if err := r.fill(); err != nil {
				return nil, err
			}
			continue
		}
		c := r.buf[r.start]
		if r.afterCR {
			r.afterCR = false
			if c == '\n' {
				r.start++
				continue
			}
		}
		switch {
		case c == '\r' || c == '\n':
			r.start++
			r.afterCR = c == '\r'
			if err := r.takeError(); err != nil {
				return nil, err
			}
			if r.n == 0 {
				continue
			}
			n := r.n
			r.n = 0
			return r.line[:n], nil
		case r.overlong:
			r.start++
		case !printable(c):
			if r.noise == 0 {
				r.noise = r.n + 1
			}
			r.keep(c)
			r.start++
		case r.noise != 0:
			// First good byte after noise: report the noisy line and leave
			// this byte to start the next one.
			return nil, r.takeError()
		case r.n == MaxLineLen:
			r.overlong = true
			r.start++
		default:
			r.keep(c)
			r.start++
		}
	}
}

// keep appends c to the line, silently dropping what does not fit: only
// noise can overflow it, and its report needs no more than a prefix.
func (r *Reader) keep(c byte) {
	if r.n < MaxLineLen {
		r.line[r.n] = c
		r.n++
	}
}

// takeError returns and clears the pending error of the current line.
func (r *Reader) takeError() error {
	var err error
	switch {
	case r.overlong:
		err = syntaxError(r.line[:r.n], MaxLineLen+1, ErrLineTooLong)
	case r.noise != 0:
		err = syntaxError(r.line[:r.n], r.noise, ErrBadByte)
	default:
		return nil
	}
	r.n, r.overlong, r.noise = 0, false, 0
	return err
}

// fill reads more bytes into the empty buffer.
func (r *Reader) fill() error {
	for i := 0; r.readErr == nil; i++ {
		if i == maxEmptyReads {
			r.readErr = io.ErrNoProgress
			break
		}
		n, err := r.r.Read(r.buf[:])
		r.start, r.end, r.readErr = 0, n, err
		if n > 0 {
			return nil // the error, if any, waits until these bytes are used
		}
	}
	if errors.Is(r.readErr, io.EOF) && (r.n > 0 || r.overlong || r.noise != 0) {
		return io.ErrUnexpectedEOF
	}
	return r.readErr
}

// ReadMessage reads and parses the next line that is not blank. Errors are
// as for ReadLine.
func (r *Reader) ReadMessage() (Message, error) {
	for {
		line, err := r.ReadLine()
		if err != nil {
			return Message{}, err
		}
		m, err := ParseLine(line)
		if errors.Is(err, ErrEmptyLine) {
			continue // a line of spaces
		}
		return m, err
	}
}
