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

	"github.com/kurodenwa/kurodenwa/pi-gateway/sipua"
)

// callSeconds is the length of the measured call.
const callSeconds = 10

// BenchmarkCallCPUAgainstBaresip places a 10 s call from the gateway's UA
// to baresip (both sending a tone, both receiving) and reports the CPU
// each side spent per second of call: baresip's from /proc/PID/stat, the
// UA's (this process: SIP, RTP both ways, jitter buffer, G.711, the tone
// source and the reader) from getrusage. Also the UA's receive-to-playout
// latency. Run:
//
//	go test -run '^$' -bench CallCPUAgainstBaresip -benchtime 1x ./test/gateway/
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
		go speak(ctx, call, 1004)
		u0, r0 := selfCPU(), procCPU(b, br.Pid())
		listen(b, call, callSeconds*time.Second)
		u1, r1 := selfCPU(), procCPU(b, br.Pid())
		uaCPU += u1 - u0
		brCPU += r1 - r0
		st := call.Stats()
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
