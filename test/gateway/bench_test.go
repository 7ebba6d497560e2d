package gateway

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kurodenwa/kurodenwa/internal/tone"
	"github.com/kurodenwa/kurodenwa/pi-gateway/media"
	"github.com/kurodenwa/kurodenwa/pi-gateway/sipua"
)

// callSeconds is the length of the measured call.
const callSeconds = 10

// BenchmarkCallCPUAgainstBaresip places a 10 s call from the gateway's UA
// to baresip (both sending a tone, both receiving) and reports the CPU
// each side spent per second of call: baresip's from /proc/PID/stat, the
// UA's from getrusage of this process. Also the UA's receive-to-playout
// latency. Run:
//
//	go test -run '^$' -bench CallCPUAgainstBaresip -benchtime 1x -count 3 -cpu 1,2 ./test/gateway/
//
// getrusage counts the whole test process, so the harness inside it is
// kept to what a UA needs and what baresip does too: the tone is sent
// from the session's own Source (a tone.Generator run in its clock tick,
// as baresip's aufile source runs inside baresip), and one reader takes
// the played-out frames and drops them (baresip's player, aubridge with
// no device, drops them too). No Goertzel check, no recording, no
// per-frame ticker of the test's own, nothing accumulated; the WAV file
// baresip plays is written before the measured window, and the window is
// the established call only. Run without -race: the race detector would
// be measured too.
func BenchmarkCallCPUAgainstBaresip(b *testing.B) {
	br := startBaresipOpts(b, false)
	ua, _ := startUA(b, sipua.Config{})
	var uaCPU, brCPU, latency, latencyMax time.Duration
	for range b.N {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		call, err := ua.Dial(ctx, br.uri())
		if err != nil {
			b.Fatal(err)
		}
		waitEvent(b, call, sipua.EventAnswered)
		br.waitEvent(b, "CALL_ESTABLISHED")
		src, ok := call.Audio().(interface{ SetSource(media.Source) })
		if !ok {
			b.Fatalf("call audio %T takes no Source", call.Audio())
		}
		gen, err := tone.FromList("1004")
		if err != nil {
			b.Fatal(err)
		}
		src.SetSource(gen)
		u0, r0 := selfCPU(), procCPU(b, br.Pid())
		drainAudio(ctx, b, call.Audio(), callSeconds*time.Second)
		u1, r1 := selfCPU(), procCPU(b, br.Pid())
		uaCPU += u1 - u0
		brCPU += r1 - r0
		st := call.Stats()
		b.Logf("UA media: %d packets in, %d late, %d lost, %d concealed, %d dropped, playout overruns %d, jitter %v, buffer target %v",
			st.PacketsReceived, st.Late, st.Lost, st.Concealed, st.Dropped, st.PlayoutOverruns, st.Jitter, st.BufferTarget)
		latency += st.LatencyMean
		latencyMax = max(latencyMax, st.LatencyMax)
		if err := call.Hangup(ctx); err != nil {
			b.Fatal(err)
		}
		br.waitEvent(b, "CALL_CLOSED")
		cancel()
	}
	n := float64(b.N * callSeconds)
	b.ReportMetric(float64(uaCPU)/float64(time.Millisecond)/n, "ua-cpu-ms/s")
	b.ReportMetric(float64(brCPU)/float64(time.Millisecond)/n, "baresip-cpu-ms/s")
	b.ReportMetric(float64(latency)/float64(time.Millisecond)/float64(b.N), "latency-ms")
	b.ReportMetric(float64(latencyMax)/float64(time.Millisecond), "latency-max-ms")
}

// drainAudio reads d of a call's audio, frame by frame, and drops it: a
// player that costs nothing but the wake-up each frame brings.
func drainAudio(ctx context.Context, b *testing.B, a sipua.Audio, d time.Duration) {
	b.Helper()
	frame := make([]int16, media.FrameSamples)
	for range int(d / media.FrameTime) {
		if err := a.Read(ctx, frame); err != nil {
			b.Fatalf("call audio: %v", err)
		}
	}
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// procCPU reads a process's user+system time from /proc/PID/stat
// (fields 14 and 15, in clock ticks of 1/100 s: USER_HZ on Linux).
func procCPU(b testing.TB, pid int) time.Duration {
	b.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// The command name (field 2) may hold spaces: count after its ')'.
	rest := string(data[strings.LastIndexByte(string(data), ')')+2:])
	f := strings.Fields(rest)
	if len(f) < 13 {
		b.Fatalf("short /proc/%d/stat", pid)
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}
