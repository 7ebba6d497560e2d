package call

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestOutboundLocal(t *testing.T) {
	tests := []struct {
		name     string
		ringback Ringback
		alerting []string
	}{
		{"ringing indication", RingbackIndicate, []string{"ring bp"}},
		{"local ring tone", RingbackTone, []string{"progress bp", "play bp " + tone("ring")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, func(c *Config) { c.OutboundRingback = tt.ringback })
			assert.Equal(t, []string{"dial leg1 PJSIP/soft1 cid=blackphone-number", "timer ring 30s"}, h.outbound("bp", "blackphone", "202"))
			assert.Equal(t, tt.alerting, h.ringing("leg1"))
			assert.Contains(t, h.up("leg1"), "answer bp")
			assert.Equal(t, Outbound, h.record("bp").Direction)
		})
	}
}

func TestOutboundPSTNPassesEarlyMedia(t *testing.T) {
	h := newHarness(t)
	assert.Equal(t, []string{"dial leg1 PJSIP/+81312345678@twilio cid=+815012345678", "timer ring 30s"},
		h.outbound("s1", "soft1", "0312345678"), "PSTN calls present the trunk's caller ID")
	assert.Equal(t, []string{"progress s1", "bridge mix1", "add s1 mix1", "add leg1 mix1"}, h.dialStatus("leg1", DialProgress),
		"the far network's early media reaches the caller")
	assert.Equal(t, []string{"cancel ring", "answer s1"}, h.dialStatus("leg1", DialAnswer))
	assert.Equal(t, StateTalking, h.state("s1"))
}

func TestOutboundPeer(t *testing.T) {
	h := newHarness(t)
	assert.Equal(t, []string{"dial leg1 PJSIP/2001@peer-tokyo cid=soft1-number", "timer ring 30s"}, h.outbound("s1", "soft1", "82001"))
}

func TestOutboundFailures(t *testing.T) {
	tests := []struct {
		name    string
		dialled string
		fail    func(h *harness) []string
		ann     map[int]string
		want    []string
		cause   string
		result  Result
	}{
		{
			name: "busy", dialled: "202",
			fail:  func(h *harness) []string { return h.dialStatus("leg1", DialBusy) },
			want:  []string{"hangup leg1 17", "cancel ring", "progress s1", "play s1 " + tone("busy"), "timer tone 20s"},
			cause: "hangup s1 17", result: ResultBusy,
		},
		{
			name: "busy by cause", dialled: "0312345678",
			fail:  func(h *harness) []string { return h.gone("leg1", 17) },
			want:  []string{"cancel ring", "progress s1", "play s1 " + tone("busy"), "timer tone 20s"},
			cause: "hangup s1 17", result: ResultBusy,
		},
		{
			name: "unallocated at the far end", dialled: "0312345678",
			fail:  func(h *harness) []string { return h.gone("leg1", 1) },
			want:  []string{"cancel ring", "progress s1", "play s1 " + tone("congestion"), "timer tone 20s"},
			cause: "hangup s1 1", result: ResultFailed,
		},
		{
			name: "no route", dialled: "0312345678",
			fail:  func(h *harness) []string { return h.gone("leg1", 3) },
			want:  []string{"cancel ring", "progress s1", "play s1 " + tone("congestion"), "timer tone 20s"},
			cause: "hangup s1 3", result: ResultFailed,
		},
		{
			name: "rejected, announced", dialled: "0312345678", ann: map[int]string{21: "kd-rejected"},
			fail:  func(h *harness) []string { return h.gone("leg1", 21) },
			want:  []string{"cancel ring", "progress s1", "play s1 sound:kd-rejected", "timer tone 20s"},
			cause: "hangup s1 21", result: ResultFailed,
		},
		{
			name: "invalid number format", dialled: "0312345678",
			fail:  func(h *harness) []string { return h.gone("leg1", 28) },
			want:  []string{"cancel ring", "progress s1", "play s1 " + tone("congestion"), "timer tone 20s"},
			cause: "hangup s1 28", result: ResultFailed,
		},
		{
			name: "congestion", dialled: "0312345678",
			fail:  func(h *harness) []string { return h.dialStatus("leg1", DialCongestion) },
			want:  []string{"hangup leg1 34", "cancel ring", "progress s1", "play s1 " + tone("congestion"), "timer tone 20s"},
			cause: "hangup s1 34", result: ResultFailed,
		},
		{
			name: "network out of order", dialled: "0312345678",
			fail:  func(h *harness) []string { return h.gone("leg1", 38) },
			want:  []string{"cancel ring", "progress s1", "play s1 " + tone("congestion"), "timer tone 20s"},
			cause: "hangup s1 38", result: ResultFailed,
		},
		{
			name: "router rejects", dialled: "0999",
			want:  []string{"progress s1", "play s1 " + tone("congestion"), "timer tone 20s"},
			cause: "hangup s1 28", result: ResultRejected,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, func(c *Config) { c.Announcements = tt.ann })
			got := h.outbound("s1", "soft1", tt.dialled)
			if tt.fail != nil {
				got = tt.fail(h)
			}
			assert.Equal(t, tt.want, got)
			assert.Equal(t, []string{tt.cause, "ended " + tt.result.String()}, h.fire("tone"), "the tone is bounded")
		})
	}
}

func TestOutboundCallerHangsUpDuringTone(t *testing.T) {
	h := newHarness(t)
	h.outbound("s1", "soft1", "202")
	h.dialStatus("leg1", DialBusy)
	assert.Equal(t, []string{"cancel tone", "ended busy"}, h.gone("s1", 16))
}

func TestOutboundNoAnswer(t *testing.T) {
	h := newHarness(t)
	h.outbound("bp", "blackphone", "0312345678")
	h.dialStatus("leg1", DialRinging)
	assert.Equal(t, []string{"hangup leg1 19", "progress bp", "play bp " + tone("hangup"), "timer tone 1m0s"}, h.fire("ring"),
		"the black phone hears the hang-up tone")
	assert.Equal(t, []string{"hangup bp 19", "ended no-answer"}, h.fire("tone"))

	h = newHarness(t)
	h.outbound("s1", "soft1", "0312345678")
	assert.Equal(t, []string{"hangup leg1 19", "hangup s1 19", "ended no-answer"}, h.fire("ring"), "a softphone is released")
}
