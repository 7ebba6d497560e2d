package call

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// flashAndDial: the black phone (leg1) talking with caller flashes and
// dials 202 (soft1, leg2).
func flashAndDial(t *testing.T, h *harness) {
	t.Helper()
	h.talk("caller")
	assert.Equal(t, []string{
		"bridge hold2", "remove caller mix1", "add caller hold2", "moh hold2",
		"play leg1 " + tone("dial"), "timer digits 10s", "timer hold 15m0s",
	}, h.dtmf("leg1", "A"), "the other party is held, the phone gets dial tone")
	assert.Equal(t, StateDialTone, h.state("leg1"))
	assert.Equal(t, []string{"stop-play leg1", "cancel digits", "timer digits 4s"}, h.dtmf("leg1", "2"))
	assert.Equal(t, []string{"cancel digits", "timer digits 4s"}, h.dtmf("leg1", "0"))
	assert.Equal(t, []string{
		"cancel digits", "dial leg2 PJSIP/soft1 cid=201", "play leg1 " + tone("ring"), "timer ring 30s",
	}, h.dtmf("leg1", "2"), "an exact local number is dialled at once")
	assert.Equal(t, StateConsulting, h.state("leg1"))
}

func TestFlashBlindTransfer(t *testing.T) {
	h := newHarness(t)
	flashAndDial(t, h)
	assert.Equal(t, []string{"cancel hold", "unmoh hold2", "remove caller hold2", "play caller " + tone("ring")},
		h.gone("leg1", 16), "handset replaced before the answer: the held party hears the new party ring")
	assert.Equal(t, StateRinging, h.state("caller"))
	assert.Equal(t, []string{"cancel ring", "stop-play caller", "add caller mix1", "add leg2 mix1"}, h.up("leg2"))
	rec := h.record("caller")
	assert.Equal(t, StateTalking, rec.State)
	assert.Equal(t, uint64(1), h.e.Stats().Transfers)
}

func TestFlashBlindTransferNoAnswer(t *testing.T) {
	h := newHarness(t)
	flashAndDial(t, h)
	h.gone("leg1", 16)
	assert.Equal(t, []string{"hangup leg2 19", "hangup caller 19", "destroy mix1", "destroy hold2", "ended no-answer"}, h.fire("ring"),
		"no leg is left up when the transfer is not answered")
}

func TestFlashAttendedTransfer(t *testing.T) {
	h := newHarness(t)
	flashAndDial(t, h)
	assert.Equal(t, []string{"cancel ring", "stop-play leg1", "add leg2 mix1"}, h.up("leg2"))
	assert.Equal(t, StateConsultTalking, h.state("leg1"))
	assert.Equal(t, []string{"cancel hold", "unmoh hold2", "remove caller hold2", "add caller mix1"}, h.gone("leg1", 16),
		"handset replaced after the answer: the held party joins the new party")
	assert.Equal(t, StateTalking, h.state("caller"))
	assert.Equal(t, []string{"hangup caller 16", "destroy mix1", "destroy hold2", "ended completed"}, h.gone("leg2", 16))
}

func TestFlashReturnsToHeldParty(t *testing.T) {
	back := []string{"unmoh hold2", "remove caller hold2", "add caller mix1"}
	tests := []struct {
		name  string
		setup func(h *harness)
		want  []string
	}{
		{
			name:  "from dial tone",
			setup: func(h *harness) { h.talk("caller"); h.dtmf("leg1", "A") },
			want:  append([]string{"cancel digits", "cancel hold", "stop-play leg1"}, back...),
		},
		{
			name:  "while the new party rings",
			setup: func(h *harness) { flashAndDial(t, h) },
			want:  append([]string{"cancel ring", "cancel hold", "stop-play leg1", "hangup leg2 16"}, back...),
		},
		{
			name:  "while talking to the new party",
			setup: func(h *harness) { flashAndDial(t, h); h.up("leg2") },
			want:  append([]string{"cancel hold", "hangup leg2 16"}, back...),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			tt.setup(h)
			assert.Equal(t, tt.want, h.dtmf("leg1", "A"))
			assert.Equal(t, StateTalking, h.state("caller"))
		})
	}
}

func TestFlashTimeouts(t *testing.T) {
	t.Run("no digit returns to the held party", func(t *testing.T) {
		h := newHarness(t)
		h.talk("caller")
		h.dtmf("leg1", "A")
		assert.Contains(t, h.fire("digits"), "add caller mix1")
		assert.Equal(t, StateTalking, h.state("caller"))
	})
	t.Run("a number that is not local gives congestion, then back", func(t *testing.T) {
		h := newHarness(t)
		h.talk("caller")
		h.dtmf("leg1", "A0312345678")
		assert.Equal(t, []string{"play leg1 " + tone("congestion"), "timer tone 20s"}, h.fire("digits"),
			"the held caller cannot be passed to the PSTN")
		assert.Equal(t, StateConsultFailed, h.state("leg1"))
		assert.Contains(t, h.fire("tone"), "add caller mix1")
	})
	t.Run("busy new party", func(t *testing.T) {
		h := newHarness(t)
		flashAndDial(t, h)
		assert.Equal(t, []string{"hangup leg2 17", "cancel ring", "stop-play leg1", "play leg1 " + tone("busy"), "timer tone 20s"}, h.dialStatus("leg2", DialBusy))
	})
	t.Run("hold limit", func(t *testing.T) {
		h := newHarness(t)
		flashAndDial(t, h)
		h.up("leg2")
		assert.Contains(t, h.fire("hold"), "hangup leg2 16")
		assert.Equal(t, StateTalking, h.state("caller"))
	})
}

func TestFlashHeldPartyHangsUp(t *testing.T) {
	h := newHarness(t)
	flashAndDial(t, h)
	assert.Equal(t, []string{"cancel hold", "unmoh hold2"}, h.gone("caller", 16))
	assert.Equal(t, []string{"cancel ring", "stop-play leg1", "add leg2 mix1"}, h.up("leg2"), "a plain call now")
	assert.Equal(t, StateTalking, h.state("leg1"))
}

func TestFlashDigitIsConsumed(t *testing.T) {
	h := newHarness(t)
	h.outbound("s1", "soft1", "201")
	assert.Empty(t, h.dtmf("s1", "A"), "a softphone has no flash")
	assert.Empty(t, h.dtmf("leg1", "A"), "a ringing black phone's flash is ignored")
	assert.Contains(t, h.up("leg1"), "add leg1 mix1 absorb", "the bridge keeps the phone's digits from the far end")
	assert.Equal(t, []string{"dtmf s1 5"}, h.dtmf("leg1", "5"), "other digits are sent on, so a rotary phone can drive a menu")
	assert.Empty(t, h.dtmf("s1", "5"), "a softphone's digits go through the bridge as they are")
	got := h.dtmf("leg1", "A")
	require.NotEmpty(t, got)
	for _, l := range got {
		assert.NotContains(t, l, "dtmf", "the flash digit is never sent on")
	}
}
