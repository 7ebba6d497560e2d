package status

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/kurodenwa/kurodenwa/pi-gateway/phone"
)

const ns = "kurodenwa_gateway"

var (
	descRegistered = prometheus.NewDesc(ns+"_sip_registered", "1 while the SIP registration is in force.", nil, nil)
	descRegState   = prometheus.NewDesc(ns+"_sip_registration_state", "1 for the current registration state.", []string{"state"}, nil)
	descPhoneState = prometheus.NewDesc(ns+"_phone_state", "1 for the phone logic's current state.", []string{"state"}, nil)
	descCalls      = prometheus.NewDesc(ns+"_calls_total", "Calls ended, by result.", []string{"result"}, nil)
	descActive     = prometheus.NewDesc(ns+"_sip_calls", "SIP calls in progress.", nil, nil)
	descPackets    = prometheus.NewDesc(ns+"_rtp_packets_total", "RTP packets, by direction.", []string{"direction"}, nil)
	descLost       = prometheus.NewDesc(ns+"_rtp_packets_lost_total", "RTP packets never received (sequence gaps).", nil, nil)
	descLate       = prometheus.NewDesc(ns+"_rtp_packets_late_total", "RTP packets received after their playout time.", nil, nil)
	descJitter     = prometheus.NewDesc(ns+"_rtp_jitter_seconds", "RFC 3550 interarrival jitter of the current call.", nil, nil)
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
		ch <- counter(descPackets, float64(st.PacketsSent), "sent")
		ch <- counter(descPackets, float64(st.PacketsReceived), "received")
		ch <- counter(descLost, float64(st.PacketsLost))
		ch <- counter(descLate, float64(st.PacketsLate))
		ch <- gauge(descJitter, st.JitterSeconds)
	}
}
