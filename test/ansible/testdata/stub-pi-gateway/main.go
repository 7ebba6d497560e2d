// Command stub-pi-gateway stands in for pi-gateway in the ansible test while
// ./pi-gateway has no main package: the phone play installs it like the real
// one, and nothing runs it.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "stub pi-gateway: the real one is not written yet")
	os.Exit(1)
}
