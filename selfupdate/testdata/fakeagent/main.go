// Command fakeagent stands in for an omniagent release in the selfupdate tests: it answers
// `version` and `config check` as the real binary does, with values set at link time.
package main

import (
	"fmt"
	"os"
)

var (
	version  = "0.0.0"
	configOK = "yes"
)

func main() {
	switch {
	case len(os.Args) > 1 && os.Args[1] == "version":
		fmt.Printf("omniagent %s (commit test, built now, go linux/amd64)\n", version)
	case len(os.Args) > 2 && os.Args[1] == "config" && os.Args[2] == "check":
		if configOK != "yes" {
			fmt.Println("agent.toml:3: key \"new_key\": unknown")
			os.Exit(1)
		}
		fmt.Println("OK")
	default:
		os.Exit(3)
	}
}
