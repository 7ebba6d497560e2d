package demo

import (
	"context"
	"fmt"
	"strings"

	"github.com/kurodenwa/kurodenwa/pi-gateway/status"
)

// show returns the raw lines whose names start with one of prefixes.
func show(m status.Metrics, prefixes ...string) []string {
	var out []string
	for _, l := range m.Lines {
		for _, p := range prefixes {
			if strings.HasPrefix(l, p) {
				out = append(out, l)
				break
			}
		}
	}
	return out
}

// describe is /health in one line: the phone, the line and the calls
// (the registration is shown once, at the start).
func describe(h status.Health) string {
	var parts []string
	if l := h.Line; l != nil {
		s := "phone " + l.State
		if l.Tone != "" {
			s += " (tone " + l.Tone + ")"
		}
		parts = append(parts, s, "line "+l.Backend)
	}
	if len(h.Calls) == 0 {
		parts = append(parts, "no call")
	}
	for _, c := range h.Calls {
		parts = append(parts, fmt.Sprintf("call %s %s %s", c.Direction, c.Remote, c.State))
	}
	return strings.Join(parts, "; ")
}

// checkCall reads /health and /metrics during a call: the phone is
// connected with one confirmed call in direction dir, and the RTP
// counters moved since before.
func (d *run) checkCall(ctx context.Context, dir string, before status.Metrics) error {
	h, err := d.st.Health(ctx)
	if err != nil {
		return &StepError{"/health during the call", err}
	}
	if h.Line == nil || h.Line.State != "connected" || len(h.Calls) != 1 || h.Calls[0].Direction != dir || h.Calls[0].State != "confirmed" {
		return &StepError{"/health during the call", fmt.Errorf("want the phone connected, one confirmed %q call: %s", dir, describe(h))}
	}
	d.pass("/health during the call: %s", describe(h))
	after, err := d.st.Metrics(ctx)
	if err != nil {
		return &StepError{"/metrics during the call", err}
	}
	b, a := before.Values, after.Values
	if a[status.SampleRTPSent] <= b[status.SampleRTPSent] || a[status.SampleRTPReceived] <= b[status.SampleRTPReceived] {
		return &StepError{"/metrics during the call", fmt.Errorf("RTP counters did not move: sent %v → %v, received %v → %v",
			b[status.SampleRTPSent], a[status.SampleRTPSent], b[status.SampleRTPReceived], a[status.SampleRTPReceived])}
	}
	d.pass("/metrics during the call: RTP packets sent %v → %v, received %v → %v; lost %v, late %v, jitter %.1f ms",
		b[status.SampleRTPSent], a[status.SampleRTPSent], b[status.SampleRTPReceived], a[status.SampleRTPReceived],
		a[status.MetricRTPLost], a[status.MetricRTPLate], 1000*a[status.MetricRTPJitter])
	for _, l := range show(after, status.MetricPrefix+"rtp_", status.MetricActiveCalls) {
		d.printf("    %s", l)
	}
	return nil
}

// checkIdle reads /health and /metrics after a call: the phone is idle,
// no call is left and the call was counted with result.
func (d *run) checkIdle(ctx context.Context, result string) error {
	h, err := d.st.Health(ctx)
	if err != nil {
		return &StepError{"/health after the call", err}
	}
	if h.Line == nil || h.Line.State != "idle" || len(h.Calls) != 0 {
		return &StepError{"/health after the call", fmt.Errorf("want the phone idle, no call: %s", describe(h))}
	}
	m, err := d.st.Metrics(ctx)
	if err != nil {
		return &StepError{"/metrics after the call", err}
	}
	if calls := status.Labelled(status.MetricCalls, "result", result); m.Values[calls] < 1 {
		return &StepError{"/metrics after the call", fmt.Errorf("%s is %v, want ≥ 1", calls, m.Values[calls])}
	}
	d.pass("/health after the call: %s; /metrics counts it:", describe(h))
	for _, l := range show(m, status.MetricCalls) {
		if !strings.HasSuffix(l, " 0") {
			d.printf("    %s", l)
		}
	}
	return nil
}
