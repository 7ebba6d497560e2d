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

// parties names a record's talking parties.
func (h *harness) parties(rec CallRecord) []string {
	var out []string
	for _, p := range rec.Parties {
		if p.State == LegUp && p.Role == RoleParty {
			out = append(out, h.name(p.Channel))
		}
	}
	return out
}

// blindREFER: soft2 (leg2), talking with a Twilio caller, REFERs it to
// dest; the app carries it out.
func blindREFER(h *harness, dest string) []string {
	return h.do(Event{Kind: EventChannelTransfer, Channel: "leg2", Transferee: "caller", Destination: dest})
}

func TestChannelTransferBlind(t *testing.T) {
	t.Run("the target answers, the transferer hangs up", func(t *testing.T) {
		h := newHarness(t)
		softTalk(t, h, "caller")
		assert.Equal(t, []string{
			"notify leg2 channel_progress", "remove leg2 mix1",
			"dial leg3 PJSIP/soft3 cid=+819011112222", "timer ring 30s", "play caller " + tone("ring"),
		}, blindREFER(h, "204"), "the transferer hears 100 Trying and leaves the bridge; the transferee hears ringing")
		assert.Equal(t, StateRinging, h.state("caller"))
		assert.Equal(t, []string{"cancel ring", "stop-play caller", "add leg3 mix1", "notify leg2 channel_answered", "timer refer 10s"},
			h.up("leg3"), "200 goes to the transferer once the target answers")
		assert.Equal(t, []string{"cancel refer"}, h.gone("leg2", 16), "the transferer hangs up by itself; the call goes on")
		assert.Equal(t, uint64(1), h.e.Stats().Transfers)
		rec := h.record("caller")
		assert.Equal(t, StateTalking, rec.State)
		assert.ElementsMatch(t, []string{"caller", "leg3"}, h.channels(rec, LegUp))
		assert.Equal(t, []string{"hangup leg3 16", "destroy mix1", "ended completed"}, h.gone("caller", 16))
	})
	t.Run("a transferer that stays is hung up after the grace", func(t *testing.T) {
		h := newHarness(t)
		softTalk(t, h, "caller")
		blindREFER(h, "204")
		h.up("leg3")
		assert.Equal(t, []string{"hangup leg2 16"}, h.fire("refer"))
		assert.Equal(t, StateTalking, h.state("caller"))
	})
	t.Run("the transferer leaves at once", func(t *testing.T) {
		h := newHarness(t)
		softTalk(t, h, "caller")
		blindREFER(h, "204")
		assert.Empty(t, h.gone("leg2", 16), "the transferee keeps ringing the target")
		assert.Equal(t, []string{"cancel ring", "stop-play caller", "add leg3 mix1"}, h.up("leg3"), "nobody to tell")
	})
	t.Run("busy target: 603 and the call back", func(t *testing.T) {
		h := newHarness(t)
		softTalk(t, h, "caller")
		blindREFER(h, "204")
		assert.Equal(t, []string{
			"hangup leg3 17", "cancel ring", "stop-play caller", "notify leg2 channel_declined", "add leg2 mix1",
		}, h.dialStatus("leg3", DialBusy))
		rec := h.record("caller")
		assert.Equal(t, StateTalking, rec.State)
		assert.ElementsMatch(t, []string{"caller", "leg2"}, h.parties(rec))
		assert.Equal(t, "+81312340000", rec.Dialled, "the record names the call it is again")
		assert.Equal(t, "family", rec.Target)
		assert.Zero(t, h.e.Stats().Transfers, "a transfer that gave the call back is not counted")
		assert.Equal(t, []string{"hangup caller 16", "destroy mix1", "ended completed"}, h.gone("leg2", 16),
			"they talk on as before")
	})
	t.Run("no answer: 603 and the call back", func(t *testing.T) {
		h := newHarness(t)
		softTalk(t, h, "caller")
		blindREFER(h, "204")
		assert.Equal(t, []string{
			"hangup leg3 19", "stop-play caller", "notify leg2 channel_declined", "add leg2 mix1",
		}, h.fire("ring"))
		assert.Equal(t, StateTalking, h.state("caller"))
	})
	t.Run("unreachable target: 503 and the call back", func(t *testing.T) {
		h := newHarness(t)
		softTalk(t, h, "caller")
		blindREFER(h, "204")
		got := h.gone("leg3", 34)
		assert.Contains(t, got, "notify leg2 channel_unavailable")
		assert.Contains(t, got, "add leg2 mix1")
	})
	t.Run("the busy black phone does not queue the transferee", func(t *testing.T) {
		h := newHarness(t)
		h.talk("other") // the black phone is in a call (leg1)
		softTalk(t, h, "caller")
		got := h.do(Event{Kind: EventChannelTransfer, Channel: "leg3", Destination: "201"})
		assert.Equal(t, []string{"notify leg3 channel_progress", "remove leg3 mix2", "notify leg3 channel_declined", "add leg3 mix2"}, got)
		assert.Equal(t, StateTalking, h.state("caller"))
	})
	t.Run("a number the router refuses: 503, nothing changes", func(t *testing.T) {
		h := newHarness(t)
		softTalk(t, h, "caller")
		assert.Equal(t, []string{"notify leg2 channel_unavailable"}, blindREFER(h, "0999"))
		assert.Equal(t, StateTalking, h.state("caller"))
	})
	t.Run("the transferee hangs up while the target rings", func(t *testing.T) {
		h := newHarness(t)
		softTalk(t, h, "caller")
		blindREFER(h, "204")
		got := h.gone("caller", 16)
		assert.Equal(t, "notify leg2 channel_declined", got[0])
		assert.Contains(t, got, "hangup leg2 16")
		assert.Contains(t, got, "hangup leg3 16")
		assert.Equal(t, "ended abandoned", got[len(got)-1])
	})
	t.Run("a second REFER while one is under way is declined", func(t *testing.T) {
		h := newHarness(t)
		softTalk(t, h, "caller")
		blindREFER(h, "204")
		assert.Equal(t, []string{"notify leg2 channel_declined"}, blindREFER(h, "203"))
	})
	t.Run("a REFER from a channel in no call is declined and changes nothing", func(t *testing.T) {
		h := newHarness(t)
		assert.Equal(t, []string{"notify stranger channel_declined"},
			h.do(Event{Kind: EventChannelTransfer, Channel: "stranger", Destination: "204"}), "the phone is not left waiting for a NOTIFY")
	})
}

func TestChannelTransferAttended(t *testing.T) {
	// soft2 (leg2) talks with a Twilio caller, then calls soft3 (leg3, its
	// own call s2b) and REFERs the first call with Replaces.
	setup := func(t *testing.T) *harness {
		h := newHarness(t)
		softTalk(t, h, "caller")
		h.outbound("s2b", "soft2", "204")
		h.up("leg3")
		require.Equal(t, StateTalking, h.state("s2b"))
		return h
	}
	t.Run("the transferee joins the target", func(t *testing.T) {
		h := setup(t)
		assert.Equal(t, []string{
			"remove s2b mix2", "destroy mix2", "ended transferred",
			"remove leg2 mix1", "notify leg2 channel_answered", "timer refer 10s", "add leg3 mix1",
		}, h.do(Event{Kind: EventChannelTransfer, Channel: "leg2", SecondLeg: "s2b", TransferTarget: "leg3"}))
		assert.ElementsMatch(t, []string{"caller", "leg3"}, h.parties(h.record("caller")))
		assert.Empty(t, h.gone("leg2", 16))
		assert.Equal(t, []string{"cancel refer"}, h.gone("s2b", 16), "both transferer legs hang up by themselves")
		assert.Equal(t, []string{"hangup leg3 16", "destroy mix1", "ended completed"}, h.gone("caller", 16))
	})
	t.Run("transferer legs that stay are hung up after the grace", func(t *testing.T) {
		h := setup(t)
		h.do(Event{Kind: EventChannelTransfer, Channel: "leg2", SecondLeg: "s2b"})
		assert.Equal(t, []string{"hangup leg2 16", "hangup s2b 16"}, h.fire("refer"))
		assert.Equal(t, StateTalking, h.state("caller"))
	})
	t.Run("Replaces naming no call of ours is declined", func(t *testing.T) {
		h := newHarness(t)
		softTalk(t, h, "caller")
		assert.Equal(t, []string{"notify leg2 channel_declined"},
			h.do(Event{Kind: EventChannelTransfer, Channel: "leg2", SecondLeg: "elsewhere"}))
		assert.Equal(t, StateTalking, h.state("caller"))
	})
}

func TestAppTransfersTakeSoftphones(t *testing.T) {
	h := newHarness(t)
	h.e.SetAppTransfers(true)
	assert.Equal(t, []string{
		"set soft2-chan PJSIP_TRANSFER_HANDLING()=ari-only", "dial leg1 PJSIP/soft3 cid=soft2-number ari-only", "timer ring 30s",
	}, h.do(Event{Kind: EventStasisStart, Channel: "soft2-chan", Args: []string{"outbound", "soft2", "204"}, Endpoint: "soft2",
		State: ChannelRing, CallerNumber: "soft2-number"}), "the softphone's own channel and the one it dials")
	got := h.do(Event{Kind: EventStasisStart, Channel: "black-chan", Args: []string{"outbound", "blackphone", "202"}, Endpoint: "blackphone",
		State: ChannelRing, CallerNumber: "201"})
	assert.Equal(t, "dial leg2 PJSIP/soft1 cid=201 ari-only", got[0], "the black phone does not REFER; the softphone it calls may")
	got = h.do(Event{Kind: EventStasisStart, Channel: "local-chan", Args: []string{"outbound", "soft1", "203"}, State: ChannelUp})
	assert.NotContains(t, got[0], "set ", "a Local channel on a softphone's behalf is no PJSIP channel")

	h.e.SetAppTransfers(false)
	got = h.do(Event{Kind: EventStasisStart, Channel: "soft1-chan", Args: []string{"outbound", "soft1", "0312345678"}, Endpoint: "soft1",
		State: ChannelRing})
	assert.NotContains(t, got[0], "set ")
}
