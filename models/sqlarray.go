package models

import "github.com/lib/pq"

func int64Array(ids []int64) any { return pq.Array(ids) }
func stringArray(s []string) any { return pq.Array(s) }
