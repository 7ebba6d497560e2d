package atline_test

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/kurodenwa/kurodenwa/pi-gateway/atline"
)

func FuzzParseLine(f *testing.F) {
	for _, s := range []string{"OFFHOOK", "DIGIT 5\r\n", "ERROR relay stuck", "READY 1.0", "at", " ringstop ", "DIGIT 10", "\xffOK", ""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		m, err := atline.ParseLine(line)
		if err != nil {
			var se *atline.SyntaxError
			if !errors.As(err, &se) || se.Column < 1 || len(se.Line) > atline.MaxLineLen {
				t.Fatalf("bad error %#v", err)
			}
			return
		}
		// Whatever parses encodes, and the encoding parses back the same.
		text, err := m.MarshalText()
		if err != nil {
			t.Fatalf("%q parsed to %+v, which does not encode: %v", line, m, err)
		}
		back, err := atline.ParseLine(text)
		if err != nil || back != m {
			t.Fatalf("%q → %+v → %q → %+v, %v", line, m, text, back, err)
		}
	})
}

// FuzzReader feeds arbitrary bytes, then a clean line. The reader must
// return only short printable lines and must be back in step for the
// final message whatever came before.
func FuzzReader(f *testing.F) {
	for _, s := range []string{"OK\r\n", "\xff\x00READY\r\n", "OFFHOOKOFFHOOKOFFHOOKOFFHOOKOFFHOOKOFFHOOKOFFHOOKOFFHOOKOFFHOOK", "\r\r\n\n", "DIG"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, noise []byte) {
		in := append(bytes.Clone(noise), "\r\nDIGIT 7\r\n"...)
		r := atline.NewReader(bytes.NewReader(in))
		var last []byte
		for i := 0; ; i++ {
			if i > len(in) {
				t.Fatal("more lines than bytes")
			}
			line, err := r.ReadLine()
			var se *atline.SyntaxError
			if errors.As(err, &se) {
				last = nil
				continue
			}
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if len(line) == 0 || len(line) > atline.MaxLineLen {
				t.Fatalf("line of %d bytes", len(line))
			}
			for _, c := range line {
				if c < 0x20 || c >= 0x7f {
					t.Fatalf("line %q holds byte 0x%02X", line, c)
				}
			}
			last = bytes.Clone(line)
		}
		if string(last) != "DIGIT 7" {
			t.Fatalf("last line %q, want DIGIT 7", last)
		}
	})
}
