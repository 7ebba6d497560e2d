package ari_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kurodenwa/kurodenwa/test/asterisktest"
)

// While the black phone is in a call, a second Twilio caller is answered
// into a holding bridge and waits; a third finds the queue (one place
// long here) full and hears busy. When the black phone hangs up, it rings
// again and the waiting caller is connected.
func TestBusyBlackPhoneQueuesCallers(t *testing.T) {
	p := start(t, needPhones, "KURODENWA_CALLS_QUEUE_MAX_LENGTH=1", "KURODENWA_CALLS_TONE_LIMIT=1s")
	port := p.registerPhone(t, "blackphone")
	// Two calls, one after the other: each answered and hung up 10 s later.
	phone := sipp(t, "black phone answers twice", "-sf", "testdata/answer_then_bye.xml", "-s", p.sipUser("blackphone"), "-aa",
		"-m", "2", "-d", "10000", "-p", fmt.Sprint(port), "-mp", fmt.Sprint(asterisktest.FreePort(t)), p.target())
	did := p.did(t, "blackphone")

	p.callDID(t, did)
	first := p.waitCall(t, "talking with the black phone", func(live bool, c callJSON) bool {
		return live && c.State == "talking"
	}).ID

	p.callDID(t, did)
	c := p.waitCall(t, "queued for the black phone", func(live bool, c callJSON) bool {
		return live && c.ID != first && c.State == "queued"
	})
	second := c.ID
	waiting, ok := c.party("twilio")
	require.True(t, ok, "the caller is in the call: %+v", c)
	ch, ok := p.ari.channel(t, waiting.Channel)
	require.True(t, ok)
	assert.Equal(t, "Up", ch.State, "a queued caller is answered")
	p.ari.waitBridge(t, waiting.Channel, "holding")
	p.waitMOH(t)

	p.callDID(t, did)
	c = p.waitCall(t, "refused, the queue being full", func(live bool, c callJSON) bool {
		return !live && !slices.Contains([]string{first, second}, c.ID)
	})
	assert.Equal(t, "busy", c.Result, "reason %q", c.Reason)
	assert.Nil(t, c.Answered, "a caller refused for a full queue is never answered")

	// The black phone hangs up the first call and is rung for the second.
	p.waitCall(t, "first call completed", func(live bool, c callJSON) bool {
		return !live && c.ID == first && c.Result == "completed"
	})
	c = p.waitCall(t, "the queued caller talking with the black phone", func(live bool, c callJSON) bool {
		_, ok := c.party("blackphone")
		return live && c.ID == second && c.State == "talking" && ok
	})
	black, _ := c.party("blackphone")
	sameMixingBridge(t, p, black.Channel, waiting.Channel)
	phone.mustSucceed(t, 60*time.Second, p)
	p.waitCall(t, "second call completed", func(live bool, c callJSON) bool {
		return !live && c.ID == second && c.Result == "completed"
	})
	p.waitNoChannelsLeft(t)
}

// A caller that waits longer than calls.queue.max_wait (10 s, the least
// allowed) hears busy and is released.
func TestQueueWaitLimitGivesBusy(t *testing.T) {
	p := start(t, needPhones, "KURODENWA_CALLS_QUEUE_MAX_WAIT=10s", "KURODENWA_CALLS_TONE_LIMIT=1s")
	port := p.registerPhone(t, "blackphone")
	phone := sipp(t, "black phone talks 16 s", "-sf", "testdata/answer_then_bye.xml", "-s", p.sipUser("blackphone"), "-aa",
		"-d", "16000", "-p", fmt.Sprint(port), "-mp", fmt.Sprint(asterisktest.FreePort(t)), p.target())
	did := p.did(t, "blackphone")

	p.callDID(t, did)
	first := p.waitCall(t, "talking with the black phone", func(live bool, c callJSON) bool {
		return live && c.State == "talking"
	}).ID
	p.callDID(t, did)
	second := p.waitCall(t, "queued for the black phone", func(live bool, c callJSON) bool {
		return live && c.ID != first && c.State == "queued"
	}).ID
	p.waitCall(t, "hearing busy after the wait limit", func(live bool, c callJSON) bool {
		return live && c.ID == second && c.State == "signalling"
	})
	c := p.waitCall(t, "ended after the wait limit", func(live bool, c callJSON) bool {
		return !live && c.ID == second
	})
	assert.Equal(t, "queue-timeout", c.Result, "reason %q", c.Reason)
	live, _ := p.calls(t)
	require.Len(t, live, 1, "the first call goes on")
	assert.Equal(t, first, live[0].ID)
	phone.mustSucceed(t, 30*time.Second, p)
	p.waitNoChannelsLeft(t)
}
