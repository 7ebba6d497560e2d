package status

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// requestTimeout bounds each request, so a server that accepts and never
// answers cannot hang its reader.
const requestTimeout = 5 * time.Second

// Client reads a status server over HTTP as a person or a monitoring
// system would: the demo and the daemon's tests use it.
type Client struct {
	Base string       // e.g. http://127.0.0.1:8089
	HTTP *http.Client // nil is http.DefaultClient
}

// Metrics is one /metrics scrape of the gateway's own samples.
type Metrics struct {
	// Values holds each sample by its name and labels as the text format
	// spells them (labels in name order), e.g. SampleRTPSent or
	// Labelled(MetricCalls, "result", "answered").
	Values map[string]float64
	// Lines are the raw sample lines, sorted, for showing.
	Lines []string
}

// Labelled is the Values key of the sample of metric name whose one
// label is label=value.
func Labelled(name, label, value string) string {
	return name + "{" + label + "=" + strconv.Quote(value) + "}"
}

// Wait waits, bounded by limit, until the server answers /health: the
// daemon listens from its own goroutine and a listener opening sends no
// event, so polling is the only way.
func (c Client) Wait(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		_, _, err := c.get(ctx, "/health")
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("status server %s not answering within %v: %w", c.Base, limit, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("status server %s: %w", c.Base, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Health reads /health. A 503 (not registered) still carries the
// document, so it is no error.
func (c Client) Health(ctx context.Context) (Health, error) {
	body, code, err := c.get(ctx, "/health")
	if err != nil {
		return Health{}, err
	}
	if code != http.StatusOK && code != http.StatusServiceUnavailable {
		return Health{}, fmt.Errorf("GET %s/health: status %d: %s", c.Base, code, bytes.TrimSpace(body))
	}
	var h Health
	if err := json.Unmarshal(body, &h); err != nil {
		return Health{}, fmt.Errorf("GET %s/health: %w", c.Base, err)
	}
	return h, nil
}

// Metrics scrapes /metrics and keeps the samples whose names start with
// MetricPrefix.
func (c Client) Metrics(ctx context.Context) (Metrics, error) {
	body, code, err := c.get(ctx, "/metrics")
	if err != nil {
		return Metrics{}, err
	}
	if code != http.StatusOK {
		return Metrics{}, fmt.Errorf("GET %s/metrics: status %d: %s", c.Base, code, bytes.TrimSpace(body))
	}
	m, err := parseMetrics(body)
	if err != nil {
		return Metrics{}, fmt.Errorf("GET %s/metrics: %w", c.Base, err)
	}
	return m, nil
}

// parseMetrics reads the Prometheus text format and keeps the samples
// whose names start with MetricPrefix.
func parseMetrics(text []byte) (Metrics, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(text))
	if err != nil {
		return Metrics{}, fmt.Errorf("parse metrics: %w", err)
	}
	m := Metrics{Values: map[string]float64{}}
	for name, f := range fams {
		if !strings.HasPrefix(name, MetricPrefix) {
			continue
		}
		for _, mt := range f.GetMetric() {
			var labels []string
			for _, l := range mt.GetLabel() {
				labels = append(labels, l.GetName()+"="+strconv.Quote(l.GetValue()))
			}
			sort.Strings(labels)
			key := name
			if len(labels) > 0 {
				key += "{" + strings.Join(labels, ",") + "}"
			}
			switch {
			case mt.GetCounter() != nil:
				m.Values[key] = mt.GetCounter().GetValue()
			case mt.GetGauge() != nil:
				m.Values[key] = mt.GetGauge().GetValue()
			case mt.GetUntyped() != nil:
				m.Values[key] = mt.GetUntyped().GetValue()
			}
		}
	}
	for l := range strings.SplitSeq(string(text), "\n") {
		if strings.HasPrefix(l, MetricPrefix) {
			m.Lines = append(m.Lines, l)
		}
	}
	sort.Strings(m.Lines)
	return m, nil
}

func (c Client) get(ctx context.Context, path string) ([]byte, int, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.Base+path, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("status client: GET %s%s: %w", c.Base, path, err)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	res, err := hc.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("status client: %w", err) // *url.Error names the URL
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, 0, fmt.Errorf("GET %s%s: %w", c.Base, path, err)
	}
	return body, res.StatusCode, nil
}
