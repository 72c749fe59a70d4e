// A min-heap of (due time, queue id): finding due messages costs O(log n), whatever the queue length.
// Entries are never removed in place; a popped entry that no longer matches the message is skipped.
export interface DueEntry {
  readonly dueAt: number;
  readonly queueId: string;
}

export class DueHeap {
  readonly #items: DueEntry[] = [];

  get size(): number {
    return this.#items.length;
  }

  push(entry: DueEntry): void {
    const items = this.#items;
    items.push(entry);
    let index = items.length - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      const parentItem = items[parent];
      if (parentItem === undefined || parentItem.dueAt <= entry.dueAt) break;
      items[index] = parentItem;
      index = parent;
    }
    items[index] = entry;
  }

  peek(): DueEntry | undefined {
    return this.#items[0];
  }

  pop(): DueEntry | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (top === undefined || last === undefined || items.length === 0) return top;
    let index = 0;
    for (;;) {
      const left = 2 * index + 1;
      const right = left + 1;
      let smallest = index;
      let smallestItem = last;
      const leftItem = items[left];
      const rightItem = items[right];
      if (leftItem !== undefined && leftItem.dueAt < smallestItem.dueAt) {
        smallest = left;
        smallestItem = leftItem;
      }
      if (rightItem !== undefined && rightItem.dueAt < smallestItem.dueAt) {
        smallest = right;
        smallestItem = rightItem;
      }
      if (smallest === index) break;
      items[index] = smallestItem;
      index = smallest;
    }
    items[index] = last;
    return top;
  }
}
