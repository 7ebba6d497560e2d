package serial_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/kurodenwa/kurodenwa/pi-gateway/clock"
	"github.com/kurodenwa/kurodenwa/pi-gateway/line"
	"github.com/kurodenwa/kurodenwa/pi-gateway/line/serial"
)

// FuzzArduinoBytes sends arbitrary bytes from the Arduino after a normal
// handshake: the Line must not panic, must report only valid events, and
// must notice the link closing afterwards.
func FuzzArduinoBytes(f *testing.F) {
	f.Add([]byte("OFFHOOK\r\nDIGIT 1\r\nDIGIT 0\r\nONHOOK\r\n"))
	f.Add([]byte("\xff\x00READY x\r\nOFFHOOK\nFLASH\rDIGIT 12\r\nOK\r\nERROR bad\r\n"))
	f.Add([]byte(strings.Repeat("A", 200) + "\r\nRING\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		status := make(chan string, 64)
		opened := make(chan struct{})
		l, err := serial.New(context.Background(), serial.Config{Port: "fuzz"}, serial.Options{
			Open: func(ctx context.Context) (io.ReadWriteCloser, error) {
				select {
				case <-opened:
					<-ctx.Done() // one connection per run
					return nil, ctx.Err()
				default:
				}
				close(opened)
				ours, theirs := net.Pipe()
				go func() {
					buf := make([]byte, 64)
					seen := ""
					for !strings.Contains(seen, "IDLE") {
						n, err := theirs.Read(buf)
						if err != nil {
							return
						}
						seen += string(buf[:n])
						for range strings.Count(string(buf[:n]), "\n") {
							_, _ = theirs.Write([]byte("OK\r\n"))
						}
					}
					go func() { _, _ = io.Copy(io.Discard, theirs) }()
					_, _ = theirs.Write(data)
					_ = theirs.Close()
				}()
				return ours, nil
			},
			Clock:    clock.NewManual(time.Unix(0, 0)),
			Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
			OnStatus: func(s string) { status <- s },
		})
		if err != nil {
			t.Fatal(err)
		}
		drained := make(chan struct{})
		go func() {
			defer close(drained)
			for e := range l.Events() {
				if e.Kind < line.OffHook || e.Kind > line.DigitError || e.Digit < 0 || e.Digit > 9 {
					t.Errorf("invalid event %+v", e)
				}
			}
		}()
		deadline := time.After(bound)
		for done := false; !done; {
			select {
			case s := <-status:
				done = strings.Contains(s, "retrying")
			case <-deadline:
				t.Fatalf("link end never noticed; status %q", l.Status())
			}
		}
		_ = l.Close()
		<-drained
	})
}
