package ari_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kurodenwa/kurodenwa/test/asterisktest"
)

// The black phone's hook flash (the gateway sends DTMF A as SIP INFO):
// a Twilio caller talking with the black phone is held in a holding
// bridge, the black phone hears dial tone and dials Linphone. Replacing
// the handset while Linphone rings is a blind transfer, after it answers
// an attended one; a second flash returns to the held caller.
func TestBlackPhoneHookFlash(t *testing.T) {
	tests := []struct {
		name     string
		scenario string
		// ring is how long Linphone rings; wait is how long after dialling
		// the black phone hangs up (or flashes back).
		ring, wait string
		// after is the call once the black phone is done.
		after func(t *testing.T, p *pbx, id string)
	}{
		{
			name: "blind: handset replaced while the new party rings", scenario: "testdata/flash_transfer.xml",
			ring: "7000", wait: "2500",
			after: func(t *testing.T, p *pbx, id string) {
				// The held caller hears the new party ring, then talks to it.
				p.waitCall(t, "ringing for the held caller", func(live bool, c callJSON) bool {
					return live && c.ID == id && c.State == "ringing"
				})
				transferred(t, p, id)
			},
		},
		{
			name: "attended: handset replaced after the new party answered", scenario: "testdata/flash_transfer.xml",
			ring: "300", wait: "4000",
			after: func(t *testing.T, p *pbx, id string) {
				p.waitCall(t, "talking to the new party", func(live bool, c callJSON) bool {
					return live && c.ID == id && c.State == "consult-talking"
				})
				transferred(t, p, id)
			},
		},
		{
			name: "a second flash returns to the held party", scenario: "testdata/flash_return.xml",
			ring: "300", wait: "3000",
			after: func(t *testing.T, p *pbx, id string) {
				p.waitCall(t, "talking to the new party", func(live bool, c callJSON) bool {
					return live && c.ID == id && c.State == "consult-talking"
				})
				c := p.waitCall(t, "back with the held caller", func(live bool, c callJSON) bool {
					_, lin := c.party("linphone")
					return live && c.ID == id && c.State == "talking" && !lin
				})
				black, ok := c.party("blackphone")
				require.True(t, ok, "the black phone is in the call: %+v", c)
				caller, ok := c.party("twilio")
				require.True(t, ok, "the caller is in the call: %+v", c)
				assert.Equal(t, "party", caller.Role)
				sameMixingBridge(t, p, black.Channel, caller.Channel)
			},
		},
	}
	skipUnless(t, needPhones)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := start(t, needPhones)
			number := p.number(t, "linphone")
			if len(number) != 3 {
				t.Skipf("skipping: the flash scenarios dial three digits, and linphone's number is %q", number)
			}
			bport, lport := p.registerPhone(t, "blackphone"), p.registerPhone(t, "linphone")
			lin := sipp(t, "linphone answers", "-sf", "testdata/answer_late.xml", "-s", p.sipUser("linphone"), "-aa", "-d", tt.ring,
				"-p", fmt.Sprint(lport), "-mp", fmt.Sprint(asterisktest.FreePort(t)), p.target())
			black := sipp(t, "black phone flashes", "-sf", tt.scenario, "-s", p.sipUser("blackphone"), "-d", tt.wait,
				"-key", "d1", number[0:1], "-key", "d2", number[1:2], "-key", "d3", number[2:3],
				"-p", fmt.Sprint(bport), "-mp", fmt.Sprint(asterisktest.FreePort(t)), p.target())
			caller := p.callDID(t, p.did(t, "blackphone"))

			c := p.waitCall(t, "talking with the black phone", func(live bool, c callJSON) bool {
				_, ok := c.party("blackphone")
				return live && c.Direction == "inbound" && c.State == "talking" && ok
			})
			id := c.ID
			c = p.waitCall(t, "on hold after the flash", func(live bool, c callJSON) bool {
				return live && c.ID == id && c.State == "dial-tone"
			})
			held, ok := c.party("twilio")
			require.True(t, ok, "the caller is in the call: %+v", c)
			assert.Equal(t, "held", held.Role)
			p.ari.waitBridge(t, held.Channel, "holding")
			p.waitMOH(t)

			// Linphone is dialled (it may already be further on when polled).
			p.waitCall(t, "dialling the new party", func(live bool, c callJSON) bool {
				_, ok := c.party("linphone")
				return live && c.ID == id && ok
			})
			tt.after(t, p, id)
			black.mustSucceed(t, 30*time.Second, p)
			// The bridge absorbs the black phone's DTMF; the app sends its
			// digits on, all but the flash.
			assert.Equal(t, "5", p.ari.dtmf.received(caller), "the far end gets the digit dialled while talking, never the flash digit")
			p.ari.hangUp(t, caller) // the Twilio caller leaves; the call ends
			lin.mustSucceed(t, 30*time.Second, p)
			p.waitCall(t, "completed", func(live bool, c callJSON) bool {
				return !live && c.ID == id && c.Result == "completed"
			})
			p.waitNoChannelsLeft(t)
		})
	}
}

// transferred: the black phone has left; the held caller talks to
// Linphone in one mixing bridge, both up.
func transferred(t *testing.T, p *pbx, id string) {
	t.Helper()
	c := p.waitCall(t, "transferred to the new party", func(live bool, c callJSON) bool {
		_, black := c.party("blackphone")
		lin, ok := c.party("linphone")
		return live && c.ID == id && c.State == "talking" && !black && ok && lin.State == "up"
	})
	lin, _ := c.party("linphone")
	caller, ok := c.party("twilio")
	require.True(t, ok, "the caller is in the call: %+v", c)
	assert.Equal(t, "up", caller.State)
	sameMixingBridge(t, p, lin.Channel, caller.Channel)
}

// sameMixingBridge: both channels are up, in one mixing bridge.
func sameMixingBridge(t *testing.T, p *pbx, a, b string) {
	t.Helper()
	for _, id := range []string{a, b} {
		ch, ok := p.ari.channel(t, id)
		require.True(t, ok, "channel %s is gone", id)
		assert.Equal(t, "Up", ch.State, "channel %s", ch.Name)
	}
	ba := p.ari.waitBridge(t, a, "mixing", b)
	assert.ElementsMatch(t, []string{a, b}, ba.Channels)
}
