package status

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/kurodenwa/kurodenwa/pi-gateway/phone"
)

// Metric names. The descriptors below and Client.Metrics's keys both use
// them, so the server and its readers cannot drift apart.
const (
	MetricPrefix      = "kurodenwa_gateway_"
	MetricRegistered  = MetricPrefix + "sip_registered"
	MetricRegState    = MetricPrefix + "sip_registration_state" // label state
	MetricPhoneState  = MetricPrefix + "phone_state"            // label state
	MetricCalls       = MetricPrefix + "calls_total"            // label result
	MetricActiveCalls = MetricPrefix + "sip_calls"
	MetricRTPPackets  = MetricPrefix + "rtp_packets_total" // label direction
	MetricRTPLost     = MetricPrefix + "rtp_packets_lost_total"
	MetricRTPLate     = MetricPrefix + "rtp_packets_late_total"
	MetricRTPJitter   = MetricPrefix + "rtp_jitter_seconds"

	// The RTP packet counter's two samples, keyed as Metrics.Values keys
	// them (Labelled's spelling).
	SampleRTPSent     = MetricRTPPackets + `{direction="` + directionSent + `"}`
	SampleRTPReceived = MetricRTPPackets + `{direction="` + directionReceived + `"}`

	directionSent     = "sent"
	directionReceived = "received"
)

var (
	descRegistered = prometheus.NewDesc(MetricRegistered, "1 while the SIP registration is in force.", nil, nil)
	descRegState   = prometheus.NewDesc(MetricRegState, "1 for the current registration state.", []string{"state"}, nil)
	descPhoneState = prometheus.NewDesc(MetricPhoneState, "1 for the phone logic's current state.", []string{"state"}, nil)
	descCalls      = prometheus.NewDesc(MetricCalls, "Calls ended, by result.", []string{"result"}, nil)
	descActive     = prometheus.NewDesc(MetricActiveCalls, "SIP calls in progress.", nil, nil)
	descPackets    = prometheus.NewDesc(MetricRTPPackets, "RTP packets, by direction.", []string{"direction"}, nil)
	descLost       = prometheus.NewDesc(MetricRTPLost, "RTP packets never received (sequence gaps).", nil, nil)
	descLate       = prometheus.NewDesc(MetricRTPLate, "RTP packets received after their playout time.", nil, nil)
	descJitter     = prometheus.NewDesc(MetricRTPJitter, "RFC 3550 interarrival jitter of the current call.", nil, nil)
)

// phoneStates lists the states for the state metric.
var phoneStates = []phone.State{
	phone.StateIdle, phone.StateRinging, phone.StateDialTone, phone.StateDialling,
	phone.StateCalling, phone.StateConnected, phone.StateLockout,
}

// collector reads the sources at scrape time, so nothing is copied or
// kept between scrapes.
type collector struct{ opts Options }

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descRegistered, descRegState, descPhoneState, descCalls, descActive, descPackets, descLost, descLate, descJitter} {
		ch <- d
	}
}

func gauge(d *prometheus.Desc, v float64, labels ...string) prometheus.Metric {
	return prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
}

func counter(d *prometheus.Desc, v float64, labels ...string) prometheus.Metric {
	return prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
}

func boolf(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	if s := c.opts.SIP; s != nil {
		r := s.Registration()
		ch <- gauge(descRegistered, boolf(r.State == RegRegistered))
		for _, st := range regStates {
			ch <- gauge(descRegState, boolf(r.State == st), st)
		}
		ch <- gauge(descActive, float64(len(s.Calls())))
	}
	if p := c.opts.Phone; p != nil {
		cur := p.Snapshot().State
		for _, st := range phoneStates {
			ch <- gauge(descPhoneState, boolf(cur == st), st.String())
		}
		res := p.Results()
		for _, r := range phone.Results() {
			ch <- counter(descCalls, float64(res[r]), r.String())
		}
	}
	if m := c.opts.Media; m != nil {
		st := m.Media()
		ch <- counter(descPackets, float64(st.PacketsSent), directionSent)
		ch <- counter(descPackets, float64(st.PacketsReceived), directionReceived)
		ch <- counter(descLost, float64(st.PacketsLost))
		ch <- counter(descLate, float64(st.PacketsLate))
		ch <- gauge(descJitter, st.JitterSeconds)
	}
}
