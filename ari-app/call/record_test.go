package call

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kurodenwa/kurodenwa/internal/site"
)

func TestSnapshotStatsAndRecent(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.KeepEnded = 2 })
	h.talk("a")
	h.outbound("s1", "soft1", "0312345678")
	h.inbound("b", site.TwilioEndpoint, blackPhoneDID) // queued
	h.outbound("s2", "soft2", "0999")                  // rejected

	snap := h.e.Snapshot()
	require.Len(t, snap, 4)
	assert.Equal(t, []State{StateTalking, StateRinging, StateQueued, StateSignalling},
		[]State{snap[0].State, snap[1].State, snap[2].State, snap[3].State}, "oldest first")
	assert.Equal(t, "0312345678", snap[1].Dialled)

	st := h.e.Stats()
	assert.Equal(t, 4, st.Active)
	assert.Equal(t, 1, st.Queued)
	assert.Equal(t, map[Direction]uint64{Inbound: 2, Outbound: 2}, st.Started)
	assert.Equal(t, uint64(0), st.Setup.Count, "nothing alerted yet in this test's first call")

	h.fire("tone", "s2")
	h.gone("s1", 16)
	h.gone("b", 16)
	st = h.e.Stats()
	assert.Equal(t, map[Outcome]uint64{
		{Outbound, ResultRejected}: 1, {Outbound, ResultAbandoned}: 1, {Inbound, ResultAbandoned}: 1,
	}, st.Ended)
	recent := h.e.Recent()
	require.Len(t, recent, 2, "KeepEnded bounds the history")
	assert.Equal(t, ResultAbandoned, recent[0].Result)
	assert.Equal(t, Outbound, recent[0].Direction)
	assert.Equal(t, Inbound, recent[1].Direction, "oldest first")
	assert.False(t, recent[1].Ended.IsZero())
}

func TestSetupLatencyFromEventTimes(t *testing.T) {
	h := newHarness(t)
	h.outbound("s1", "soft1", "202")
	h.ringing("leg1") // the harness spaces events 100 ms apart
	st := h.e.Stats()
	assert.Equal(t, uint64(1), st.Setup.Count)
	assert.Equal(t, 100*time.Millisecond, st.Setup.Sum)
	assert.Equal(t, uint64(1), st.Setup.Counts[0])
	assert.Len(t, st.Setup.Counts, len(st.Setup.Bounds)+1)
}

func TestNewRejectsBadConfig(t *testing.T) {
	_, err := New(Config{}, nil)
	require.Error(t, err)
	_, err = New(Config{Phones: map[string]Phone{"bp": {FlashDigit: "AB"}}}, testRouter(t))
	require.ErrorContains(t, err, "flash digit")
	_, err = New(Config{NoAnswer: NoAnswerAction{Fallback: &Destination{Name: "x"}}}, testRouter(t))
	require.ErrorContains(t, err, "no endpoints")
}

func TestConfigFromSite(t *testing.T) {
	cfg := ConfigFromSite(testSite())
	assert.Equal(t, Phone{Number: "201", HangupTone: true, Queue: true, FlashDigit: DefaultFlashDigit}, cfg.Phones["blackphone"])
	assert.Equal(t, Phone{Number: "202", Refers: true}, cfg.Phones["soft1"])
	assert.Equal(t, 60*time.Second, cfg.HangupToneLimit)
}

func TestEnumStrings(t *testing.T) {
	for s := StateRinging; s <= StateEnded; s++ {
		assert.NotEqual(t, "unknown", s.String())
	}
	for r := ResultNone; r < resultCount; r++ {
		assert.NotEqual(t, "unknown", r.String())
	}
	for k := EventStasisStart; k <= EventChannelTransfer; k++ {
		assert.NotEqual(t, "unknown", k.String())
	}
	for k := CmdAnswer; k <= CmdTransferProgress; k++ {
		assert.NotEqual(t, "unknown", k.String())
	}
	for r := RoleCaller; r <= RoleTransferer; r++ {
		assert.NotEqual(t, "unknown", r.String())
	}
	for k := timerRing; k < timerKinds; k++ {
		assert.NotEqual(t, "unknown", k.String())
	}
	assert.Equal(t, ChannelUp, ParseChannelState("Up"))
	assert.Equal(t, ChannelOther, ParseChannelState("Dialing"))
}

func TestConfigFromSiteCalls(t *testing.T) {
	s := testSite()
	s.Calls.Queue.MaxLength = 5
	s.Calls.NoAnswer = site.NoAnswer{Destination: "family", Announcement: "vm-nobodyavail"}
	s.Calls.Announcements = map[string]string{"1": "ss-noservice"}
	s.Calls.InboundRingback = site.RingbackTone
	cfg := ConfigFromSite(s)
	assert.Equal(t, 5, cfg.Queue.MaxLength)
	assert.Equal(t, "vm-nobodyavail", cfg.NoAnswer.Announcement)
	require.NotNil(t, cfg.NoAnswer.Fallback)
	assert.Equal(t, []string{"soft1", "soft2"}, cfg.NoAnswer.Fallback.Endpoints)
	assert.Equal(t, map[int]string{1: "ss-noservice"}, cfg.Announcements)
	assert.Equal(t, RingbackTone, cfg.InboundRingback)
}
