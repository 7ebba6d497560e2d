package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/kurodenwa/kurodenwa/pi-gateway/status"
)

// statusClient reads the daemon's status server as a person or a
// monitoring system would, over HTTP on 127.0.0.1.
type statusClient struct {
	base string // http://127.0.0.1:PORT
	http *http.Client
}

// metrics is one /metrics scrape: the samples by name and labels as the
// text format spells them, and the raw lines, for showing.
type metrics struct {
	values map[string]float64
	lines  []string
}

// Metric names the demo reads.
const (
	metricSent     = `kurodenwa_gateway_rtp_packets_total{direction="sent"}`
	metricReceived = `kurodenwa_gateway_rtp_packets_total{direction="received"}`
	metricLost     = `kurodenwa_gateway_rtp_packets_lost_total`
	metricLate     = `kurodenwa_gateway_rtp_packets_late_total`
	metricJitter   = `kurodenwa_gateway_rtp_jitter_seconds`
	metricActive   = `kurodenwa_gateway_sip_calls`
)

func metricCalls(result string) string {
	return fmt.Sprintf("kurodenwa_gateway_calls_total{result=%q}", result)
}

// wait waits, bounded, until the server answers: it listens from its own
// goroutine and a listener opening sends no event.
func (s statusClient) wait(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		_, _, err := s.get(ctx, "/health")
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("status server %s not answering within %v: %w", s.base, limit, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (s statusClient) get(ctx context.Context, path string) ([]byte, int, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.base+path, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("GET %s: %w", path, err)
	}
	res, err := s.http.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("GET %s: %w", path, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, 0, fmt.Errorf("GET %s: %w", path, err)
	}
	return body, res.StatusCode, nil
}

// health reads /health. 503 (not registered) still carries the document.
func (s statusClient) health(ctx context.Context) (status.Health, error) {
	body, code, err := s.get(ctx, "/health")
	if err != nil {
		return status.Health{}, err
	}
	if code != http.StatusOK && code != http.StatusServiceUnavailable {
		return status.Health{}, fmt.Errorf("GET /health: status %d: %s", code, body)
	}
	var h status.Health
	if err := json.Unmarshal(body, &h); err != nil {
		return status.Health{}, fmt.Errorf("GET /health: %w", err)
	}
	return h, nil
}

// metrics scrapes /metrics and keeps the gateway's own samples.
func (s statusClient) metrics(ctx context.Context) (metrics, error) {
	body, code, err := s.get(ctx, "/metrics")
	if err != nil {
		return metrics{}, err
	}
	if code != http.StatusOK {
		return metrics{}, fmt.Errorf("GET /metrics: status %d", code)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		return metrics{}, fmt.Errorf("GET /metrics: %w", err)
	}
	m := metrics{values: map[string]float64{}}
	for name, f := range fams {
		if !strings.HasPrefix(name, "kurodenwa_") {
			continue
		}
		for _, mt := range f.GetMetric() {
			var labels []string
			for _, l := range mt.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			key := name
			if len(labels) > 0 {
				key += "{" + strings.Join(labels, ",") + "}"
			}
			switch {
			case mt.GetCounter() != nil:
				m.values[key] = mt.GetCounter().GetValue()
			case mt.GetGauge() != nil:
				m.values[key] = mt.GetGauge().GetValue()
			}
		}
	}
	for _, l := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(l, "kurodenwa_") {
			m.lines = append(m.lines, l)
		}
	}
	sort.Strings(m.lines)
	return m, nil
}

// show returns the raw lines whose names start with one of prefixes.
func (m metrics) show(prefixes ...string) []string {
	var out []string
	for _, l := range m.lines {
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
func (d *run) checkCall(ctx context.Context, dir string, before metrics) error {
	h, err := d.st.health(ctx)
	if err != nil {
		return &StepError{"/health during the call", err}
	}
	if h.Line == nil || h.Line.State != "connected" || len(h.Calls) != 1 || h.Calls[0].Direction != dir || h.Calls[0].State != "confirmed" {
		return &StepError{"/health during the call", fmt.Errorf("want the phone connected, one confirmed %q call: %s", dir, describe(h))}
	}
	d.pass("/health during the call: %s", describe(h))
	after, err := d.st.metrics(ctx)
	if err != nil {
		return &StepError{"/metrics during the call", err}
	}
	b, a := before.values, after.values
	if a[metricSent] <= b[metricSent] || a[metricReceived] <= b[metricReceived] {
		return &StepError{"/metrics during the call", fmt.Errorf("RTP counters did not move: sent %v → %v, received %v → %v",
			b[metricSent], a[metricSent], b[metricReceived], a[metricReceived])}
	}
	d.pass("/metrics during the call: RTP packets sent %v → %v, received %v → %v; lost %v, late %v, jitter %.1f ms",
		b[metricSent], a[metricSent], b[metricReceived], a[metricReceived], a[metricLost], a[metricLate], 1000*a[metricJitter])
	for _, l := range after.show("kurodenwa_gateway_rtp_", metricActive) {
		d.printf("    %s", l)
	}
	return nil
}

// checkIdle reads /health and /metrics after a call: the phone is idle,
// no call is left and the call was counted with result.
func (d *run) checkIdle(ctx context.Context, result string) error {
	h, err := d.st.health(ctx)
	if err != nil {
		return &StepError{"/health after the call", err}
	}
	if h.Line == nil || h.Line.State != "idle" || len(h.Calls) != 0 {
		return &StepError{"/health after the call", fmt.Errorf("want the phone idle, no call: %s", describe(h))}
	}
	m, err := d.st.metrics(ctx)
	if err != nil {
		return &StepError{"/metrics after the call", err}
	}
	if m.values[metricCalls(result)] < 1 {
		return &StepError{"/metrics after the call", fmt.Errorf("%s is %v, want ≥ 1", metricCalls(result), m.values[metricCalls(result)])}
	}
	d.pass("/health after the call: %s; /metrics counts it:", describe(h))
	for _, l := range m.show("kurodenwa_gateway_calls_total") {
		if !strings.HasSuffix(l, " 0") {
			d.printf("    %s", l)
		}
	}
	return nil
}
