package daemon

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kurodenwa/kurodenwa/pi-gateway/config"
)

// TestGainsReachMedia: audio.mic_gain_db and audio.speaker_gain_db become
// the call's send and receive gains (media.TestSessionGains shows those
// applied to the audio).
func TestGainsReachMedia(t *testing.T) {
	cfg, err := config.Parse([]byte("sip: {registrar: 'pbx.local'}\naudio: {mic_gain_db: -3.5, speaker_gain_db: 6}\n"), "t",
		config.Options{LookupEnv: func(k string) (string, bool) { return "Secret-Password-1", k == "KURODENWA_SIP_PASSWORD" }})
	require.NoError(t, err)
	m := SIPConfig(cfg).Media
	assert.InDelta(t, -3.5, m.TxGainDB, 1e-9, "mic: towards the network")
	assert.InDelta(t, 6, m.RxGainDB, 1e-9, "speaker: towards the earpiece")
}
