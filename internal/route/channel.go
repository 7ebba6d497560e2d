package route

import "strings"

// EndpointOf reduces a channel name such as "PJSIP/blackphone-0000002a" to
// its PJSIP endpoint, and leaves an endpoint name as it is. The dialplan
// passes a channel name where the caller is known only that way: a blind
// transfer's Local channel has no endpoint, and BLINDTRANSFER names the
// transferer's channel. Other technologies give "".
func EndpointOf(name string) string {
	rest, ok := strings.CutPrefix(name, "PJSIP/")
	if !ok {
		if strings.Contains(name, "/") {
			return ""
		}
		return name
	}
	if i := strings.LastIndexByte(rest, '-'); i > 0 {
		return rest[:i]
	}
	return rest
}
