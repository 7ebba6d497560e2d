package atline_test

import (
	"bytes"
	"io"
	"testing"

	"github.com/kurodenwa/kurodenwa/pi-gateway/atline"
)

func BenchmarkParseLine(b *testing.B) {
	line := []byte("DIGIT 5\r\n")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := atline.ParseLine(line); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReader reads a typical burst of events: a dialled number.
func BenchmarkReader(b *testing.B) {
	stream := bytes.Repeat([]byte("OFFHOOK\r\nDIGIT 0\r\nDIGIT 3\r\nOK\r\nONHOOK\r\n"), 100)
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	src := bytes.NewReader(stream)
	for b.Loop() {
		src.Reset(stream)
		r := atline.NewReader(src)
		for {
			if _, err := r.ReadMessage(); err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
		}
	}
}
