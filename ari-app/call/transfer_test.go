package call

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kurodenwa/kurodenwa/internal/site"
)

// softTalk: a Twilio caller on the family group, answered by soft1 (leg1).
func softTalk(t *testing.T, h *harness, caller string) {
	t.Helper()
	h.inbound(caller, site.TwilioEndpoint, "+81312340000")
	h.up(h.lastLeg() + "")
	require.Equal(t, StateTalking, h.state(caller))
}

// channels names a record's parties in state.
func (h *harness) channels(rec CallRecord, state LegState) []string {
	var out []string
	for _, p := range rec.Parties {
		if p.State == state {
			out = append(out, h.name(p.Channel))
		}
	}
	return out
}

func TestBlindTransferByAsterisk(t *testing.T) {
	t.Run("a Local channel replaces the transferer", func(t *testing.T) {
		h := newHarness(t)
		softTalk(t, h, "caller")
		assert.Empty(t, h.do(Event{Kind: EventBlindTransfer, Channel: "leg2", Transferee: "caller", ReplaceChannel: "local1", TransferOK: true}),
			"nobody is hung up: the transferer leaves on its own")
		assert.Empty(t, h.do(Event{Kind: EventStasisStart, Channel: "local1", ReplaceChannel: "leg2", State: ChannelUp}))
		assert.Empty(t, h.gone("leg2", 16))
		rec := h.record("caller")
		assert.Equal(t, StateTalking, rec.State)
		assert.ElementsMatch(t, []string{"caller", "local1"}, h.channels(rec, LegUp))
		assert.Equal(t, []string{"hangup local1 16", "destroy mix1", "ended completed"}, h.gone("caller", 16))
	})
	t.Run("the replacement announced by StasisStart only", func(t *testing.T) {
		h := newHarness(t)
		softTalk(t, h, "caller")
		assert.Equal(t, []string{"timer transfer 10s"}, h.do(Event{Kind: EventBlindTransfer, Channel: "leg2", TransferOK: true}))
		assert.Equal(t, StateTransferring, h.state("caller"))
		assert.Equal(t, []string{"cancel transfer"}, h.do(Event{Kind: EventStasisStart, Channel: "local1", ReplaceChannel: "leg2", State: ChannelUp}))
		assert.Equal(t, StateTalking, h.state("caller"))
	})
	t.Run("the transferee leaves for the dialplan", func(t *testing.T) {
		h := newHarness(t)
		softTalk(t, h, "caller")
		h.do(Event{Kind: EventBlindTransfer, Channel: "leg2", TransferOK: true})
		assert.Equal(t, []string{"cancel transfer", "destroy mix1", "ended transferred"}, h.do(Event{Kind: EventStasisEnd, Channel: "caller"}))
	})
	t.Run("no replacement in time", func(t *testing.T) {
		h := newHarness(t)
		softTalk(t, h, "caller")
		h.do(Event{Kind: EventBlindTransfer, Channel: "leg2", TransferOK: true})
		assert.Equal(t, []string{"hangup caller 16", "destroy mix1", "ended completed"}, h.fire("transfer"))
	})
	t.Run("a failed transfer changes nothing", func(t *testing.T) {
		h := newHarness(t)
		softTalk(t, h, "caller")
		assert.Empty(t, h.do(Event{Kind: EventBlindTransfer, Channel: "leg2"}))
		assert.Equal(t, StateTalking, h.state("caller"))
	})
}

func TestAttendedTransferByAsterisk(t *testing.T) {
	// soft1 (leg1) talks with a Twilio caller, then calls soft3 (leg3 of
	// its own call s1b) and transfers.
	setup := func(t *testing.T) *harness {
		h := newHarness(t)
		softTalk(t, h, "caller")
		h.outbound("s1b", "soft1", "204")
		h.up("leg3")
		require.Equal(t, StateTalking, h.state("s1b"))
		return h
	}
	t.Run("bridge: the calls merge", func(t *testing.T) {
		h := setup(t)
		got := h.do(Event{Kind: EventAttendedTransfer, Channel: "leg2", SecondLeg: "s1b", Transferee: "caller", TransferTarget: "leg3",
			DestinationType: "bridge", Bridge: h.id("mix1"), TransferOK: true})
		assert.Equal(t, []string{"destroy mix2", "ended transferred"}, got, "the second call's record ends, no party is hung up")
		rec := h.record("caller")
		assert.Equal(t, StateTalking, rec.State)
		assert.ElementsMatch(t, []string{"caller", "leg3"}, h.channels(rec, LegUp))
		assert.Equal(t, []string{"hangup leg3 16", "destroy mix1", "ended completed"}, h.gone("caller", 16))
	})
	t.Run("link: Local channels swap in", func(t *testing.T) {
		h := setup(t)
		assert.Equal(t, []string{"timer transfer 10s", "timer transfer 10s"},
			h.do(Event{Kind: EventAttendedTransfer, Channel: "leg2", SecondLeg: "s1b", DestinationType: "link", TransferOK: true}),
			"each call waits, bounded, for its Local channel")
		h.do(Event{Kind: EventStasisStart, Channel: "local1", ReplaceChannel: "leg2", State: ChannelUp})
		h.do(Event{Kind: EventStasisStart, Channel: "local2", ReplaceChannel: "s1b", State: ChannelUp})
		assert.Equal(t, StateTalking, h.state("caller"))
		assert.Equal(t, StateTalking, h.state("leg3"))
		assert.Equal(t, []string{"hangup local1 16", "destroy mix1", "ended completed"}, h.gone("caller", 16))
		assert.Equal(t, []string{"hangup leg3 16", "destroy mix2", "ended completed"}, h.gone("local2", 16),
			"the far call ends through the Local pair")
	})
}

func TestChannelTransferCarriedOut(t *testing.T) {
	t.Run("blind", func(t *testing.T) {
		h := newHarness(t)
		softTalk(t, h, "caller")
		assert.Equal(t, []string{
			"hangup leg2 16", "dial leg3 PJSIP/soft3 cid=+819011112222", "timer ring 30s", "play caller " + tone("ring"),
		}, h.do(Event{Kind: EventChannelTransfer, Channel: "leg2", Destination: "204"}))
		assert.Equal(t, []string{"cancel ring", "stop-play caller", "add leg3 mix1"}, h.up("leg3"))
	})
	t.Run("blind to a number the router refuses", func(t *testing.T) {
		h := newHarness(t)
		softTalk(t, h, "caller")
		assert.Empty(t, h.do(Event{Kind: EventChannelTransfer, Channel: "leg2", Destination: "0999"}))
	})
	t.Run("attended", func(t *testing.T) {
		h := newHarness(t)
		softTalk(t, h, "caller")
		h.outbound("s1b", "soft1", "204")
		h.up("leg3")
		assert.Equal(t, []string{
			"hangup leg2 16", "hangup s1b 16", "remove leg3 mix2", "destroy mix2", "ended transferred", "add leg3 mix1",
		}, h.do(Event{Kind: EventChannelTransfer, Channel: "leg2", SecondLeg: "s1b"}))
		assert.ElementsMatch(t, []string{"caller", "leg3"}, h.channels(h.record("caller"), LegUp))
	})
}
