package httpapi

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kurodenwa/kurodenwa/ari-app/call"
)

// Metrics holds the application's Prometheus metrics in its own registry
// (no global state). Counters that events drive are kept here; the
// engine's own counts are read at scrape time through Source.
type Metrics struct {
	Registry       *prometheus.Registry
	callsEnded     *prometheus.CounterVec
	commandsFailed *prometheus.CounterVec
}

// StreamStats are the event stream's counters.
type StreamStats interface {
	Connected() bool
	Connects() int64
	Failures() int64
	Events() int64
	DecodeErrors() int64
}

// NewMetrics registers every metric. source gives the engine's state at
// scrape time; stream the ARI connection's counters.
func NewMetrics(source func(context.Context) (Snapshot, error), stream StreamStats) *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		callsEnded: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kurodenwa_calls_ended_total", Help: "Calls that ended, by direction and result.",
		}, []string{"direction", "result"}),
		commandsFailed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kurodenwa_ari_requests_failed_total", Help: "ARI requests that failed, by kind.",
		}, []string{"request"}),
	}
	m.Registry.MustRegister(m.callsEnded, m.commandsFailed, &engineCollector{source: source}, &streamCollector{s: stream})
	return m
}

// CallEnded implements stasis.Observer.
func (m *Metrics) CallEnded(r call.CallRecord) {
	m.callsEnded.WithLabelValues(r.Direction.String(), r.Result.String()).Inc()
}

// CommandFailed implements stasis.Observer.
func (m *Metrics) CommandFailed(kind call.CommandKind, _ error) {
	m.commandsFailed.WithLabelValues(kind.String()).Inc()
}

var (
	descActive  = prometheus.NewDesc("kurodenwa_calls_active", "Calls in progress.", nil, nil)
	descQueued  = prometheus.NewDesc("kurodenwa_queue_length", "Callers waiting in the queue for a busy phone.", nil, nil)
	descStarted = prometheus.NewDesc("kurodenwa_calls_started_total", "Calls started, by direction.", []string{"direction"}, nil)
	descSetup   = prometheus.NewDesc("kurodenwa_call_setup_seconds", "Time from a call's arrival to its target ringing (alerting or early media).", nil, nil)
	descXfer    = prometheus.NewDesc("kurodenwa_transfers_total", "Transfers carried out.", nil, nil)
	descUp      = prometheus.NewDesc("kurodenwa_ari_connected", "1 while the ARI websocket is up.", nil, nil)
	descConn    = prometheus.NewDesc("kurodenwa_ari_connects_total", "ARI websocket connections made.", nil, nil)
	descRecon   = prometheus.NewDesc("kurodenwa_ari_reconnects_total", "ARI websocket connections lost or refused, each followed by a retry.", nil, nil)
	descEvents  = prometheus.NewDesc("kurodenwa_ari_events_total", "ARI events received (none is ever dropped).", nil, nil)
	descDecode  = prometheus.NewDesc("kurodenwa_ari_undecodable_messages_total", "ARI websocket messages that were not events.", nil, nil)
)

// engineCollector reads the engine's counts at scrape time.
type engineCollector struct {
	source func(context.Context) (Snapshot, error)
}

func (c *engineCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descActive, descQueued, descStarted, descSetup, descXfer} {
		ch <- d
	}
}

func (c *engineCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	snap, err := c.source(ctx)
	if err != nil {
		return // the loop is stuck or stopping: report nothing rather than stale figures
	}
	s := snap.Stats
	ch <- prometheus.MustNewConstMetric(descActive, prometheus.GaugeValue, float64(s.Active))
	ch <- prometheus.MustNewConstMetric(descQueued, prometheus.GaugeValue, float64(s.Queued))
	ch <- prometheus.MustNewConstMetric(descXfer, prometheus.CounterValue, float64(s.Transfers))
	for d, n := range s.Started {
		ch <- prometheus.MustNewConstMetric(descStarted, prometheus.CounterValue, float64(n), d.String())
	}
	buckets := map[float64]uint64{}
	var cum uint64
	for i, b := range s.Setup.Bounds {
		cum += s.Setup.Counts[i]
		buckets[b.Seconds()] = cum
	}
	ch <- prometheus.MustNewConstHistogram(descSetup, s.Setup.Count, s.Setup.Sum.Seconds(), buckets)
}

type streamCollector struct{ s StreamStats }

func (c *streamCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descUp, descConn, descRecon, descEvents, descDecode} {
		ch <- d
	}
}

func (c *streamCollector) Collect(ch chan<- prometheus.Metric) {
	if c.s == nil {
		return
	}
	up := 0.0
	if c.s.Connected() {
		up = 1
	}
	ch <- prometheus.MustNewConstMetric(descUp, prometheus.GaugeValue, up)
	ch <- prometheus.MustNewConstMetric(descConn, prometheus.CounterValue, float64(c.s.Connects()))
	ch <- prometheus.MustNewConstMetric(descRecon, prometheus.CounterValue, float64(c.s.Failures()))
	ch <- prometheus.MustNewConstMetric(descEvents, prometheus.CounterValue, float64(c.s.Events()))
	ch <- prometheus.MustNewConstMetric(descDecode, prometheus.CounterValue, float64(c.s.DecodeErrors()))
}
