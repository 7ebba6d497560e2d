// Package gateway holds end-to-end tests of the telephone Pi's SIP side
// (pi-gateway/sipua and pi-gateway/media) against real SIP peers from
// Debian packages: sipp (sip-tester), baresip (baresip-core) and
// linphonec (linphone-cli). Everything runs on 127.0.0.1 with ports chosen
// at run time; every child runs in its own process group, killed at the
// end; a failed test keeps its directory (logs, WAV files, scenarios) and
// says where.
package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kurodenwa/kurodenwa/internal/syncbuf"
	"github.com/kurodenwa/kurodenwa/internal/tone"
	"github.com/kurodenwa/kurodenwa/pi-gateway/media"
	"github.com/kurodenwa/kurodenwa/pi-gateway/sipua"
	"github.com/kurodenwa/kurodenwa/test/asterisktest"
)

// Test credentials: never real ones.
const (
	testUser     = "blackphone"
	testPassword = "Kurodenwa-Test-2024"
)

// freePort is a port free on 127.0.0.1 for UDP and TCP.
func freePort(t testing.TB) int { return asterisktest.FreePort(t) }

// needBinary skips the test, in one line, when name is not installed.
func needBinary(t testing.TB, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("skipping: no %s on PATH (Debian package %s; make deps installs it)", name, pkg)
	}
	return p
}

// workDir is a directory for a test's files, removed when the test passes
// and kept, with its path logged, when it fails.
func workDir(t testing.TB) string {
	t.Helper()
	// Short, under /tmp: baresip and sipp write sockets and long names.
	dir, err := os.MkdirTemp("", "kdgw")
	require.NoError(t, err)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("files kept for inspection: %s", dir)
			return
		}
		os.RemoveAll(dir)
	})
	return dir
}

// proc is a child process in its own process group, logging to a file.
type proc struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	exited  chan struct{}
	err     error
}

// startProc starts a child; it is killed (the whole group) when the test
// ends, and its log is shown when the test fails.
func startProc(t testing.TB, dir, name, bin string, args ...string) *proc {
	t.Helper()
	p, _ := startProcStdin(t, false, nil, dir, name, bin, args...)
	return p
}

// startProcStdin is startProc with, when withStdin, a pipe to the child's
// standard input (closed at the end), and env added to the environment.
func startProcStdin(t testing.TB, withStdin bool, env []string, dir, name, bin string, args ...string) (*proc, io.WriteCloser) {
	t.Helper()
	p := &proc{name: name, logPath: filepath.Join(dir, name+".log"), exited: make(chan struct{})}
	logf, err := os.Create(p.logPath)
	require.NoError(t, err)
	p.cmd = exec.Command(bin, args...)
	p.cmd.Dir = dir
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var stdin io.WriteCloser
	if withStdin {
		stdin, err = p.cmd.StdinPipe()
		require.NoError(t, err)
		t.Cleanup(func() { stdin.Close() })
	}
	require.NoError(t, p.cmd.Start(), "start %s", name)
	go func() {
		p.err = p.cmd.Wait()
		logf.Close()
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("--- %s (%s %s) ---\n%s", name, bin, strings.Join(args, " "), tail(p.logPath, 120))
		}
	})
	return p, stdin
}

// stop ends the process group: SIGTERM, then SIGKILL after 3 s.
func (p *proc) stop() {
	select {
	case <-p.exited:
		return
	default:
	}
	pgid := p.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(3 * time.Second):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-p.exited
	}
}

// wait waits, bounded, for the process to exit and returns its error.
func (p *proc) wait(t testing.TB, limit time.Duration) error {
	t.Helper()
	select {
	case <-p.exited:
		return p.err
	case <-time.After(limit):
		return fmt.Errorf("%s still running after %v", p.name, limit)
	}
}

func tail(path string, lines int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	all := strings.Split(string(data), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}

// startUA runs the gateway's UA on 127.0.0.1 until the test ends (which
// stops it: calls hung up, unregistered).
func startUA(t testing.TB, cfg sipua.Config) (*sipua.UA, func()) {
	t.Helper()
	if cfg.User == "" {
		cfg.User = testUser
	}
	if cfg.Bind == "" {
		cfg.Bind = "127.0.0.1:0"
	}
	logs := &syncbuf.Buffer{}
	ua, err := sipua.New(cfg, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ua.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil && !errors.Is(err, context.Canceled) {
					t.Errorf("UA: %v", err)
				}
			case <-time.After(15 * time.Second):
				t.Error("UA did not stop within 15 s")
			}
		})
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() || os.Getenv("KURODENWA_TEST_UA_LOG") != "" {
			t.Logf("--- UA log ---\n%s", logs.String())
		}
	})
	waitReady(t, ua)
	return ua, stop
}

// waitReady waits until Run serves.
func waitReady(t testing.TB, ua *sipua.UA) {
	t.Helper()
	select {
	case <-ua.Ready():
	case <-time.After(5 * time.Second):
		t.Fatal("UA did not start serving within 5 s")
	}
}

// nextEvent waits, bounded, for a call's next event.
func nextEvent(t testing.TB, c *sipua.Call, limit time.Duration) sipua.CallEvent {
	t.Helper()
	select {
	case e, ok := <-c.Events():
		require.True(t, ok, "events closed")
		return e
	case <-time.After(limit):
		t.Fatalf("no event from call %s (state %s) within %v", c.ID(), c.State(), limit)
	}
	return sipua.CallEvent{}
}

// waitEvent skips events until one of kind k, and fails if the call ends
// first (unless k is EventEnded).
func waitEvent(t testing.TB, c *sipua.Call, k sipua.EventKind) sipua.CallEvent {
	t.Helper()
	for {
		e := nextEvent(t, c, 15*time.Second)
		t.Logf("call %s: %s", c.ID()[:8], e)
		if e.Kind == k {
			return e
		}
		require.NotEqual(t, sipua.EventEnded, e.Kind, "call ended (%s) while waiting for %s", e, k)
	}
}

func waitIncoming(t testing.TB, ua *sipua.UA) *sipua.Call {
	t.Helper()
	select {
	case c := <-ua.Incoming():
		return c
	case <-time.After(15 * time.Second):
		t.Fatal("no incoming call within 15 s")
	}
	return nil
}

// hear reads a call's audio until freq fills the last half second, for
// at most limit of audio. It returns the audio read.
func hear(t testing.TB, c *sipua.Call, freq float64, limit time.Duration) ([]int16, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit+5*time.Second)
	defer cancel()
	frame := make([]int16, media.FrameSamples)
	var pcm []int16
	for len(pcm) < int(limit.Seconds()*8000) {
		if err := c.Audio().Read(ctx, frame); err != nil {
			return pcm, false
		}
		pcm = append(pcm, frame...)
		if len(pcm) >= 4000 && (tone.Detector{Freq: freq}).Detect(pcm[len(pcm)-4000:]).OnShare > 0.9 {
			return pcm, true
		}
	}
	return pcm, false
}

// listen reads d of a call's audio (Read paces it: 20 ms a frame).
func listen(t testing.TB, c *sipua.Call, d time.Duration) []int16 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d+5*time.Second)
	defer cancel()
	frame := make([]int16, media.FrameSamples)
	var pcm []int16
	for len(pcm) < int(d.Seconds()*8000) {
		if err := c.Audio().Read(ctx, frame); err != nil {
			break
		}
		pcm = append(pcm, frame...)
	}
	return pcm
}

// speak sends a tone into a call until ctx ends or the call does.
func speak(ctx context.Context, c *sipua.Call, freq float64) {
	g, err := tone.FromList(fmt.Sprint(freq))
	if err != nil {
		return
	}
	frame := make([]int16, media.FrameSamples)
	tick := time.NewTicker(media.FrameTime)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.Done():
			return
		case <-tick.C:
			g.Read(frame)
			if c.Audio().Write(ctx, frame) != nil {
				return
			}
		}
	}
}
