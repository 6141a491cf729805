import {startEtcd} from '../test/helpers/etcd.js'
import {Etcd3} from 'etcd3'
const c = await startEtcd({size: 1})
console.log(c.peers)
const client = new Etcd3({hosts: c.peers})
const r1 = await client.put('/a').value('1').exec()
const r2 = await client.put('/a').value('2').exec()
const r3 = await client.put('/a').value('3').exec()
console.log(r1.header.revision, r3.header.revision)
await client.request? 0 : 0
const comp = await (client as any).kv.compact({revision: r2.header.revision, physical: true})
console.log('compacted')
try {
  const w = await client.watch().prefix('/').startRevision(String(Number(r1.header.revision))).create()
  w.on('error', (e: any) => console.log('watch error event', e.constructor.name, e.message))
  w.on('data', (d: any) => console.log('data', JSON.stringify(d).slice(0,300)))
} catch (e: any) { console.log('create error', e.constructor.name, e.message) }
await new Promise(r => setTimeout(r, 1000))
const lease = client.lease(1, {autoKeepAlive: false})
const id = await lease.grant()
const ttl = await (client as any).leaseClient.leaseTimeToLive({ID: id})
console.log('lease', id, ttl.TTL, ttl.grantedTTL)
client.close()
await c.close()
