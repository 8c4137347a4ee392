package redistest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Cluster is a Redis Cluster of real servers (masters only), for tests that
// check the keys of one person share a hash slot.
type Cluster struct {
	Nodes []*Server
}

// StartCluster starts n ≥ 3 servers in cluster mode and joins them with
// redis-cli --cluster create.
func StartCluster(n int) (*Cluster, error) {
	if _, err := exec.LookPath("redis-cli"); err != nil {
		return nil, ErrNoRedis
	}
	c := &Cluster{}
	for range n {
		s, err := startWith("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000")
		if err != nil {
			c.Close()
			return nil, err
		}
		c.Nodes = append(c.Nodes, s)
	}
	args := []string{"--cluster", "create"}
	args = append(args, c.Addrs()...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.Command("redis-cli", args...).CombinedOutput(); err != nil {
		c.Close()
		return nil, fmt.Errorf("redis-cli --cluster create: %v: %s", err, out)
	}
	// Wait until every node agrees that the cluster is up.
	deadline := time.Now().Add(20 * time.Second)
	for _, s := range c.Nodes {
		for {
			info, err := redis.NewClient(&redis.Options{Addr: s.Addr}).ClusterInfo(context.Background()).Result()
			if err == nil && strings.Contains(info, "cluster_state:ok") {
				break
			}
			if time.Now().After(deadline) {
				c.Close()
				return nil, fmt.Errorf("cluster did not come up: %v %s", err, info)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return c, nil
}

// MustStartCluster starts a cluster for a test and closes it at the end;
// with CI=true a missing redis-server fails instead of skipping.
func MustStartCluster(t interface {
	Helper()
	Skip(...any)
	Fatal(...any)
	Cleanup(func())
}, n int) *Cluster {
	t.Helper()
	c, err := StartCluster(n)
	if errors.Is(err, ErrNoRedis) && os.Getenv("CI") != "true" {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// Addrs lists the nodes' addresses.
func (c *Cluster) Addrs() []string {
	var out []string
	for _, s := range c.Nodes {
		out = append(out, s.Addr)
	}
	return out
}

// Close stops every node.
func (c *Cluster) Close() {
	for _, s := range c.Nodes {
		s.Close()
	}
}
