import type {AuthApi, NodeInfo} from '../../client/auth-api.js'

/**
 * The node list, fetched from auth at most every few seconds: a burst of connections (tsh bench,
 * parallel `tsh ssh` on a label selector) costs one listing, not one each.
 */
export class NodeListCache {
  private nodes: NodeInfo[] | undefined
  private fetchedAt = 0
  private pending: Promise<NodeInfo[]> | undefined

  constructor(
    private readonly authApi: AuthApi,
    private readonly maxAgeMs = 3_000,
  ) {}

  /** `cached`: the list is from an earlier call (it may miss a node that joined since). */
  async get(options: {refresh?: boolean} = {}): Promise<{nodes: NodeInfo[]; cached: boolean}> {
    if (this.nodes && !options.refresh && Date.now() - this.fetchedAt < this.maxAgeMs) return {nodes: this.nodes, cached: true}
    this.pending ??= this.authApi.listNodes().then(
      (nodes) => {
        this.nodes = nodes
        this.fetchedAt = Date.now()
        this.pending = undefined
        return nodes
      },
      (err: unknown) => {
        this.pending = undefined
        throw err
      },
    )
    return {nodes: await this.pending, cached: false}
  }
}
