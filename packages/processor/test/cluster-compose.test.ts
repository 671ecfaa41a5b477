import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { parse as parseYaml } from "yaml"

/**
 * The compose profile `cluster` (infra/docker-compose.yml) against its config files
 * (infra/clickhouse-cluster/): no Docker runs here, so this checks that they describe one
 * cluster: 2 shards x 2 replicas, every replica a service whose shard and replica macros match
 * its place in remote_servers, 3 Keeper nodes that the servers and the Raft configuration name
 * alike, and every image at the single server's release.
 */

const infra = path.resolve(import.meta.dirname, "../../../infra")
const read = (file: string) => fs.readFileSync(path.join(infra, file), "utf8")

interface Service {
  readonly image?: string
  readonly profiles?: ReadonlyArray<string>
  readonly hostname?: string
  readonly environment?: Readonly<Record<string, string>>
  readonly volumes?: ReadonlyArray<string>
}
// merge: compose resolves `<<: *anchor` merge keys, as the cluster nodes use them.
const compose = parseYaml(read("docker-compose.yml"), { merge: true }) as {
  services: Readonly<Record<string, Service>>
}
const inProfile = Object.entries(compose.services).filter(([, s]) => s.profiles?.includes("cluster"))
const clusterXml = read("clickhouse-cluster/cluster.xml")
const keeperXml = read("clickhouse-cluster/keeper.xml")
const all = (re: RegExp, text: string) => [...text.matchAll(re)].map((m) => m[1] ?? "")

describe("compose profile `cluster`", () => {
  it("2 shards x 2 replicas, each a service whose macros match its place in remote_servers", () => {
    const cluster = /<remote_servers>\s*<(\w+)>([\s\S]*?)<\/\1>/.exec(clusterXml)
    expect(cluster?.[1]).toBe("rtoa")
    expect(/<cluster>(\w+)<\/cluster>/.exec(clusterXml)?.[1]).toBe(cluster?.[1])
    const shards = all(/<shard>([\s\S]*?)<\/shard>/g, cluster?.[2] ?? "")
    expect(shards).toHaveLength(2)
    shards.forEach((shard, i) => {
      expect(shard).toContain("<internal_replication>true</internal_replication>")
      const hosts = all(/<host>([\w-]+)<\/host>/g, shard)
      expect(hosts).toHaveLength(2)
      for (const host of hosts) {
        const s = compose.services[host]
        expect(s?.hostname, host).toBe(host)
        expect(s?.environment?.CH_SHARD, host).toBe(String(i + 1).padStart(2, "0"))
        expect(s?.environment?.CH_REPLICA, host).toBe(host)
        expect(s?.volumes, host).toEqual(
          expect.arrayContaining([
            "./clickhouse-cluster/cluster.xml:/etc/clickhouse-server/config.d/cluster.xml:ro",
            "./clickhouse-cluster/cluster-profile.xml:/etc/clickhouse-server/users.d/cluster-profile.xml:ro",
          ]),
        )
      }
    })
    const servers = inProfile.filter(([, s]) => s.image?.includes("clickhouse-server"))
    expect(servers.map(([name]) => name).sort()).toEqual(
      shards.flatMap((s) => all(/<host>([\w-]+)<\/host>/g, s)).sort(),
    )
  })

  it("3 Keeper nodes, named alike by the servers, the Raft configuration and compose", () => {
    const keepers = inProfile.filter(([, s]) => s.image?.includes("clickhouse-keeper"))
    expect(keepers).toHaveLength(3)
    const names = keepers.map(([name]) => name).sort()
    expect(all(/<node><host>([\w-]+)<\/host><port>9181<\/port><\/node>/g, clusterXml).sort()).toEqual(names)
    expect(all(/<hostname>([\w-]+)<\/hostname><port>9234<\/port>/g, keeperXml).sort()).toEqual(names)
    const ids = all(/<server><id>(\d+)<\/id>/g, keeperXml)
    expect(keepers.map(([, s]) => s.environment?.KEEPER_SERVER_ID).sort()).toEqual(ids.sort())
  })

  it("every ClickHouse image of the profile is the single server's release", () => {
    const release = compose.services.clickhouse?.image?.split(":")[1]
    expect(release).toMatch(/^\d+\.\d+$/)
    for (const [name, s] of inProfile) expect(s.image?.split(":")[1], name).toBe(release)
  })
})
