package rpc_test

import (
	"fmt"
	"strings"
)

func fmtSscan(line string, status *int) (int, error) {
	return fmt.Sscan(strings.Fields(line)[0], status)
}
