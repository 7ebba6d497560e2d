package site

import "time"

// TwilioSignalingCIDRs are Twilio's published signalling ranges for every
// region (Elastic SIP Trunking origination). Re-check Twilio's live list.
var twilioSignalingCIDRs = []string{
	"54.172.60.0/30",    // North America Virginia
	"54.244.51.0/30",    // North America Oregon
	"54.171.127.192/30", // Europe Ireland
	"35.156.191.128/30", // Europe Frankfurt
	"54.65.63.192/30",   // Asia Pacific Tokyo
	"54.169.127.128/30", // Asia Pacific Singapore
	"54.252.254.64/30",  // Asia Pacific Sydney
	"177.71.206.192/30", // South America São Paulo
}

// twilioMediaCIDRs is Twilio's media range (UDP 10000–60000).
var twilioMediaCIDRs = []string{"168.86.128.0/18"}

// DefaultTwilioSignalingCIDRs returns a copy of Twilio's signalling ranges.
func DefaultTwilioSignalingCIDRs() []string { return append([]string(nil), twilioSignalingCIDRs...) }

// defaults are applied beneath the site file. Keys here are also what an
// environment variable may override when the file omits them.
func defaults() map[string]any {
	return map[string]any{
		"exchange.sip.udp":               "0.0.0.0:5060",
		"exchange.rtp.start":             10000,
		"exchange.rtp.end":               20000,
		"exchange.tone_zone":             "jp",
		"exchange.ring_timeout":          "60s",
		"exchange.hangup_tone_limit":     "60s",
		"exchange.moh_directory":         "/var/lib/asterisk/moh",
		"numbering.country_code":         "81",
		"numbering.trunk_prefix":         "0",
		"numbering.international_prefix": "010",
		"numbering.service_code_prefix":  "1",
		"numbering.service_code_length":  3,
		"twilio.transport":               "udp",
		"twilio.signaling_cidrs":         DefaultTwilioSignalingCIDRs(),
		"twilio.media_cidrs":             append([]string(nil), twilioMediaCIDRs...),
		"calls.inbound_ringback":         RingbackIndicate,
		"calls.outbound_ringback":        RingbackIndicate,
		"calls.pass_early_media":         true,
		"calls.queue.max_length":         3,
		"calls.queue.max_wait":           "5m",
		"calls.tone_limit":               "20s",
		"calls.flash_digit":              "A",
		"calls.hold_limit":               "15m",
		"calls.moh_class":                "default",
		"calls.transfer_handling":        TransferAuto,
		"ari.app":                        "kurodenwa",
		"ari.user":                       "kurodenwa",
		"ari.bind":                       "127.0.0.1:8088",
		"ari.fastagi":                    "127.0.0.1:4573",
		"ari.api":                        "127.0.0.1:8090",
		"ari.drain_timeout":              "2m",
	}
}

// japanNationalLengths is the length of a Japanese national number with its
// trunk prefix: 0ABJ numbers have 10 digits, 0A0 (050 IP, 070/080/090
// mobile, 020 M2M) and 0800 free dial 11, 0120 free dial and 0570 navi dial 10.
func japanNationalLengths() map[string]int {
	return map[string]int{
		"0":    10,
		"020":  11,
		"050":  11,
		"060":  11,
		"070":  11,
		"080":  11,
		"090":  11,
		"0120": 10,
		"0570": 10,
		"0800": 11,
		"0990": 10,
	}
}

const (
	defaultMemberTimeout    = 20 * time.Second
	defaultSoftphoneContact = 2
	defaultQualify          = 30 * time.Second
)
