package alsa

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kurodenwa/kurodenwa/internal/tone"
	"github.com/kurodenwa/kurodenwa/pi-gateway/audio"
)

// tap is a test PCM made of ALSA plugins, no card needed: playback goes to
// out.raw, capture comes from in.raw (a 1004 Hz tone at 48 kHz). Its slave
// is the null PCM, which does not keep time: arecord and aplay run as fast
// as they can, so nothing here measures time.
type tap struct {
	dir, out string
	cfg      Config
	starts   chan string // "arecord 1234"
}

func newTap(t *testing.T) *tap {
	t.Helper()
	for _, p := range progNames {
		if _, err := exec.LookPath(p); err != nil {
			t.Skipf("skipping: needs %s (apt-get install alsa-utils)", p)
		}
	}
	dir := t.TempDir()
	tp := &tap{dir: dir, out: filepath.Join(dir, "out.raw"), starts: make(chan string, 16)}
	in := make([]byte, 2*48000)
	for i := range len(in) / 2 {
		binary.LittleEndian.PutUint16(in[2*i:], uint16(int16(8000*math.Sin(2*math.Pi*1004*float64(i)/48000))))
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "in.raw"), in, 0o644))
	// caponly records but cannot play: Open must not take it for a card.
	rc := fmt.Sprintf(`pcm.tap {
	type asym
	playback.pcm { type file slave.pcm "null" file %q format "raw" }
	capture.pcm { type file slave.pcm "null" file "/dev/null" infile %q format "raw" }
}
pcm.caponly {
	type asym
	capture.pcm { type file slave.pcm "null" file "/dev/null" infile %q format "raw" }
}
`, tp.out, filepath.Join(dir, "in.raw"), filepath.Join(dir, "in.raw"))
	require.NoError(t, os.WriteFile(filepath.Join(dir, ".asoundrc"), []byte(rc), 0o644))
	tp.cfg = Config{Device: "tap", env: []string{"HOME=" + dir}, onStart: func(prog string, pid int) {
		select {
		case tp.starts <- fmt.Sprintf("%s %d", prog, pid):
		default:
		}
	}}
	return tp
}

func testLog(t *testing.T) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func (tp *tap) open(t *testing.T) *Device {
	t.Helper()
	d, err := Open(tp.cfg, testLog(t))
	require.NoError(t, err)
	t.Cleanup(func() { d.Close() })
	return d
}

// pid waits for prog's next start.
func (tp *tap) pid(ctx context.Context, t *testing.T, prog string) int {
	t.Helper()
	for {
		select {
		case s := <-tp.starts:
			var p string
			var pid int
			_, err := fmt.Sscan(s, &p, &pid)
			require.NoError(t, err)
			if p == prog {
				return pid
			}
		case <-ctx.Done():
			t.Fatalf("no %s started: %v", prog, ctx.Err())
		}
	}
}

func sine(frame []int16, n *int, freq, amp float64) {
	for i := range frame {
		frame[i] = int16(amp * math.Sin(2*math.Pi*freq*float64(*n)/audio.SampleRate))
		*n++
	}
}

// TestUtilsPlayback plays 1 s of 1004 Hz through Write and finds it, at
// the level written, in what aplay gave the file plugin.
func TestUtilsPlayback(t *testing.T) {
	tp := newTap(t)
	d := tp.open(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	frame := make([]int16, audio.FrameSamples)
	n := 0
	for range 50 {
		sine(frame, &n, 1004, 10000)
		require.NoError(t, d.Write(ctx, frame))
	}
	require.NoError(t, d.Close()) // aplay plays out and exits: the file is complete
	raw, err := os.ReadFile(tp.out)
	require.NoError(t, err)
	got := bytesToInt16(nil, raw)
	// 50 frames at 8 kHz are 48000 samples at 48 kHz; what aplay adds is
	// silence to fill its last period.
	require.GreaterOrEqual(t, len(got), 44000, "samples in %s", tp.out)
	mid := got[4800:40000]
	power := tone.Goertzel(mid, 1004, 48000)
	assert.InDelta(t, 10000*10000/2, power, 10000*10000/2*0.05, "1004 Hz at the level written")
	assert.Greater(t, power/tone.MeanSquare(mid), 0.98, "nothing but the tone")
	assert.Zero(t, d.Restarts())
	assert.ErrorIs(t, d.Write(ctx, frame), ErrClosed)
}

// TestUtilsCapture reads what arecord captures from a 1004 Hz file and
// finds the tone at 8 kHz.
func TestUtilsCapture(t *testing.T) {
	tp := newTap(t)
	d := tp.open(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	frame := make([]int16, audio.FrameSamples)
	var got []int16
	for range 20 {
		require.NoError(t, d.Read(ctx, frame))
		got = append(got, frame...)
	}
	tail := got[800:]
	power := tone.Goertzel(tail, 1004, audio.SampleRate)
	assert.InDelta(t, 8000*8000/2, power, 8000*8000/2*0.05, "1004 Hz at the file's level")
	assert.Greater(t, power/tone.MeanSquare(tail), 0.98)
	assert.Greater(t, d.Latency(), 6*d.cfg.Period, "buffer, pipe, aplay's chunk, filters")
	t.Logf("Latency at the defaults: %v", d.Latency())
}

// TestUtilsRestart kills arecord, then aplay: each is restarted, and Read
// and Write go on without an error meanwhile.
func TestUtilsRestart(t *testing.T) {
	tp := newTap(t)
	d := tp.open(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pids := map[string]int{}
	for range 2 {
		s := <-tp.starts
		var p string
		var pid int
		_, err := fmt.Sscan(s, &p, &pid)
		require.NoError(t, err)
		pids[p] = pid
	}
	frame := make([]int16, audio.FrameSamples)
	for i, prog := range progNames {
		require.NoError(t, syscall.Kill(pids[prog], syscall.SIGKILL), prog)
		// Read and Write keep working through the gap and after.
		done := make(chan int, 1)
		go func() { done <- tp.pid(ctx, t, prog) }()
		var newPid int
	loop:
		for {
			require.NoError(t, d.Read(ctx, frame))
			require.NoError(t, d.Write(ctx, frame))
			select {
			case newPid = <-done:
				break loop
			default:
			}
		}
		assert.NotEqual(t, pids[prog], newPid, prog)
		assert.Equal(t, i+1, d.Restarts())
		for range 5 {
			require.NoError(t, d.Read(ctx, frame))
			require.NoError(t, d.Write(ctx, frame))
		}
	}
	require.NoError(t, d.Close())
	assert.ErrorIs(t, d.Read(ctx, frame), ErrClosed)
}

func TestUtilsOpenErrors(t *testing.T) {
	tp := newTap(t)
	bad := tp.cfg
	bad.Device = "nosuch"
	_, err := Open(bad, testLog(t))
	require.Error(t, err)
	for _, want := range []string{`arecord -D "nosuch"`, "audio open error", "Unknown PCM nosuch", "arecord -L lists them"} {
		assert.ErrorContains(t, err, want)
	}

	capOnly := tp.cfg
	capOnly.Device = "caponly"
	_, err = Open(capOnly, testLog(t))
	require.Error(t, err, "a PCM that records but cannot play is no sound card for a phone")
	assert.ErrorContains(t, err, `aplay -D "caponly"`)

	missing := tp.cfg
	missing.Aplay = filepath.Join(tp.dir, "no-aplay")
	_, err = Open(missing, testLog(t))
	assert.ErrorContains(t, err, "start aplay")

	t.Setenv("PATH", tp.dir)
	_, err = Open(Config{}, testLog(t))
	assert.ErrorContains(t, err, "needs arecord (apt-get install alsa-utils)")
}

func TestLineLog(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"nothing", "", ""},
		{"own and lib", "ALSA lib pcm.c:2666:(snd_pcm_open_noupdate) Unknown PCM x\narecord: main:831: audio open error: No such file or directory\n",
			"arecord: main:831: audio open error: No such file or directory (ALSA lib pcm.c:2666:(snd_pcm_open_noupdate) Unknown PCM x)"},
		{"only lib, no newline", "ALSA lib x.c:1: y", "ALSA lib x.c:1: y"},
		{"other", "overrun!!! (at least 1.0 ms long)\n\n", "overrun!!! (at least 1.0 ms long)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := &lineLog{prog: "arecord", log: slog.New(slog.NewTextHandler(io.Discard, nil))}
			for _, part := range strings.SplitAfter(tc.in, ":") { // in pieces, as a pipe gives it
				_, _ = l.Write([]byte(part))
			}
			assert.Equal(t, tc.want, l.summary())
		})
	}
}

func FuzzLineLog(f *testing.F) {
	f.Add([]byte("arecord: main:831: audio open error\nALSA lib x\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		l := &lineLog{prog: "arecord", log: slog.New(slog.NewTextHandler(io.Discard, nil))}
		n, err := l.Write(b)
		if err != nil || n != len(b) {
			t.Fatalf("Write: %d, %v", n, err)
		}
		_ = l.summary()
		if len(l.lines) > stderrKeep {
			t.Fatalf("%d lines kept", len(l.lines))
		}
	})
}

func TestSampleBytes(t *testing.T) {
	s := []int16{0, 1, -1, math.MaxInt16, math.MinInt16}
	b := make([]byte, 2*len(s))
	int16ToBytes(b, s)
	assert.Equal(t, s, bytesToInt16(nil, b))
	assert.Equal(t, s[:2], bytesToInt16(nil, b[:5]), "an odd byte waits")
}
