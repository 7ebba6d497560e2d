package asterisk

import (
	"encoding/json"
	"fmt"

	"github.com/CyCoreSystems/ari/v6"
)

// ChannelTransfer is ARI's ChannelTransfer event (a REFER handed to the
// application under PJSIP_TRANSFER_HANDLING(ari-only), Asterisk 22.3, 21.8,
// 20.13 and later), which the ari library has no type for.
type ChannelTransfer struct {
	ari.EventData `json:",inline"`
	State         string          `json:"state"`
	Channel       ari.ChannelData `json:"channel"`
	ReferTo       struct {
		RequestedDestination struct {
			Destination string `json:"destination"`
		} `json:"requested_destination"`
		DestinationChannel ari.ChannelData `json:"destination_channel"`
		ConnectedChannel   ari.ChannelData `json:"connected_channel"`
	} `json:"refer_to"`
	ReferredBy struct {
		SourceChannel    ari.ChannelData `json:"source_channel"`
		ConnectedChannel ari.ChannelData `json:"connected_channel"`
	} `json:"referred_by"`
}

// GetType implements ari.Event.
func (e *ChannelTransfer) GetType() string { return "ChannelTransfer" }

// Key implements ari.Event.
func (e *ChannelTransfer) Key(kind, id string) *ari.Key { return ari.NewKey(kind, id) }

// Keys implements ari.Event.
func (e *ChannelTransfer) Keys() ari.Keys {
	return ari.Keys{ari.NewKey(ari.ChannelKey, e.ReferredBy.SourceChannel.ID)}
}

// decode is ari.DecodeEvent plus the events the library lacks.
func decode(data []byte) (ari.Event, error) {
	e, err := ari.DecodeEvent(data)
	if err == nil {
		return e, nil
	}
	var typed struct {
		Type string `json:"type"`
	}
	if json.Unmarshal(data, &typed) != nil {
		return nil, err
	}
	switch typed.Type {
	case "ChannelTransfer":
		var ct ChannelTransfer
		if err := json.Unmarshal(data, &ct); err != nil {
			return nil, fmt.Errorf("decode ChannelTransfer: %w", err)
		}
		return &ct, nil
	}
	return nil, err
}
