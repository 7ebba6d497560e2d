package call

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kurodenwa/kurodenwa/internal/site"
)

func TestInboundRingsThenAnswers(t *testing.T) {
	tests := []struct {
		name     string
		ringback Ringback
		alerting []string
		answer   []string
	}{
		{
			name:     "ringing indication",
			ringback: RingbackIndicate,
			alerting: []string{"ring caller"},
			answer:   []string{"cancel ring", "answer caller", "bridge mix1", "add caller mix1", "add leg1 mix1 absorb"},
		},
		{
			name:     "early media ring tone",
			ringback: RingbackTone,
			alerting: []string{"progress caller", "play caller " + tone("ring")},
			answer:   []string{"cancel ring", "stop-play caller", "answer caller", "bridge mix1", "add caller mix1", "add leg1 mix1 absorb"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, func(c *Config) { c.InboundRingback = tt.ringback })
			got := h.inbound("caller", site.TwilioEndpoint, "+81312345678")
			assert.Equal(t, []string{"dial leg1 PJSIP/blackphone cid=+819011112222", "timer ring 30s"}, got,
				"the caller is not answered while the phone rings")
			assert.Equal(t, tt.alerting, h.ringing("leg1"))
			assert.Empty(t, h.dialStatus("leg1", DialRinging), "alerting is signalled once")
			assert.Equal(t, tt.answer, h.up("leg1"))

			rec := h.record("caller")
			assert.Equal(t, StateTalking, rec.State)
			assert.Equal(t, Inbound, rec.Direction)
			assert.Equal(t, "blackphone", rec.Target)
			assert.False(t, rec.Answered.IsZero())
			require.Len(t, rec.Parties, 2)
			assert.Equal(t, PartyRecord{Channel: "caller", Endpoint: "twilio", Number: "+819011112222", Role: RoleParty, State: LegUp}, rec.Parties[0])
			assert.Equal(t, "blackphone", rec.Parties[1].Endpoint)
		})
	}
}

func TestInboundCallerHangsUpWhileRinging(t *testing.T) {
	h := newHarness(t)
	assert.Equal(t, []string{
		"dial leg1 PJSIP/soft1 cid=+819011112222", "dial leg2 PJSIP/soft2 cid=+819011112222", "timer ring 30s",
	}, h.inbound("caller", site.TwilioEndpoint, "+81312340000"))
	h.ringing("leg1")
	assert.Equal(t, []string{"cancel ring", "hangup leg1 16", "hangup leg2 16", "ended abandoned"}, h.gone("caller", 16),
		"ringing targets are hung up at once")
	assert.Empty(t, h.up("leg2"), "events after the end are ignored")
	assert.Empty(t, h.gone("leg1", 16))
}

func TestRingAllFirstAnswerWins(t *testing.T) {
	h := newHarness(t)
	h.inbound("caller", site.TwilioEndpoint, "+81312340000")
	h.ringing("leg1")
	h.ringing("leg2")
	assert.Equal(t, []string{
		"hangup leg1 26", "cancel ring", "answer caller", "bridge mix1", "add caller mix1", "add leg2 mix1",
	}, h.up("leg2"))
	assert.Empty(t, h.gone("leg1", 26), "the cancelled leg's end changes nothing")
	assert.Equal(t, StateTalking, h.state("caller"))
}

func TestRingInOrder(t *testing.T) {
	h := newHarness(t)
	assert.Equal(t, []string{"dial leg1 PJSIP/soft1 cid=+819011112222", "timer ring 10s"},
		h.inbound("caller", site.TwilioEndpoint, "+81312340001"))
	assert.Equal(t, []string{"hangup leg1 19", "dial leg2 PJSIP/soft2 cid=+819011112222", "timer ring 10s"},
		h.fire("ring"), "the member timeout moves on to the next member")
	assert.Equal(t, []string{"hangup leg2 17", "dial leg3 PJSIP/soft3 cid=+819011112222", "cancel ring", "timer ring 10s"},
		h.dialStatus("leg2", DialBusy), "a busy member is skipped")
	assert.Equal(t, []string{"cancel ring", "answer caller", "bridge mix1", "add caller mix1", "add leg3 mix1"}, h.up("leg3"))
}

func TestRingTimeoutActions(t *testing.T) {
	fallback := &Destination{Name: "soft3", Endpoints: []string{"soft3"}, Timeout: 15 * time.Second}
	tests := []struct {
		name     string
		noAnswer NoAnswerAction
		want     []string
		then     func(h *harness) []string
		thenWant []string
		result   Result
	}{
		{
			name:   "hang up",
			want:   []string{"hangup leg1 19", "hangup caller 19", "ended no-answer"},
			result: ResultNoAnswer,
		},
		{
			name:     "announcement then hang up",
			noAnswer: NoAnswerAction{Announcement: "kd-no-answer"},
			want:     []string{"hangup leg1 19", "progress caller", "play caller sound:kd-no-answer", "timer tone 20s"},
			then:     func(h *harness) []string { return h.finished("caller") },
			thenWant: []string{"hangup caller 19", "cancel tone", "ended no-answer"},
			result:   ResultNoAnswer,
		},
		{
			name:     "fallback destination",
			noAnswer: NoAnswerAction{Fallback: fallback},
			want:     []string{"hangup leg1 19", "dial leg2 PJSIP/soft3 cid=+819011112222", "timer ring 15s"},
			then:     func(h *harness) []string { return h.up("leg2") },
			thenWant: []string{"cancel ring", "answer caller", "bridge mix1", "add caller mix1", "add leg2 mix1"},
		},
		{
			name:     "fallback once, then the announcement",
			noAnswer: NoAnswerAction{Fallback: fallback, Announcement: "kd-no-answer"},
			want:     []string{"hangup leg1 19", "dial leg2 PJSIP/soft3 cid=+819011112222", "timer ring 15s"},
			then:     func(h *harness) []string { return h.fire("ring") },
			thenWant: []string{"hangup leg2 19", "progress caller", "play caller sound:kd-no-answer", "timer tone 20s"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, func(c *Config) { c.NoAnswer = tt.noAnswer })
			h.inbound("caller", site.TwilioEndpoint, "+81312345678")
			h.ringing("leg1")
			assert.Equal(t, tt.want, h.fire("ring"))
			if tt.then != nil {
				assert.Equal(t, tt.thenWant, tt.then(h))
			}
			if tt.result != ResultNone {
				require.NotEmpty(t, h.ended)
				assert.Equal(t, tt.result, h.ended[len(h.ended)-1].Result)
			}
		})
	}
}

func TestInboundTargetUnavailable(t *testing.T) {
	h := newHarness(t)
	h.inbound("caller", site.TwilioEndpoint, "+81312345678")
	assert.Equal(t, []string{
		"hangup leg1 20", "cancel ring", "progress caller", "play caller " + tone("congestion"), "timer tone 20s",
	}, h.dialStatus("leg1", DialChanUnavail), "an unanswered caller gets the tone as early media")
	assert.Equal(t, []string{"hangup caller 20", "ended failed"}, h.fire("tone"))
}

func TestInboundRejectedNumber(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Announcements = map[int]string{causeUnallocated: "kd-unallocated"} })
	assert.Equal(t, []string{"progress caller", "play caller sound:kd-unallocated", "timer tone 20s"},
		h.inbound("caller", site.TwilioEndpoint, "+81399999999"))
	assert.Equal(t, []string{"hangup caller 1", "cancel tone", "ended rejected"}, h.finished("caller"))
	assert.Contains(t, h.ended[0].Reason, "not one of our DIDs")
}

func TestUnknownStasisArguments(t *testing.T) {
	h := newHarness(t)
	assert.Equal(t, []string{"continue x"}, h.do(Event{Kind: EventStasisStart, Channel: "x", Args: []string{"sideways", "a", "b"}}))
	assert.Equal(t, []string{"continue y"}, h.do(Event{Kind: EventStasisStart, Channel: "y"}))
	assert.Empty(t, h.e.Snapshot())
}
