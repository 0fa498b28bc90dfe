import { closeNames } from './closeNames.js';

describe('closeNames', () => {
  it('orders by edit distance, then by name', () => {
    // Distances to "fc2.bais": fc2.bias 2 (two substitutions), fc1.bias 3, fc2.weight 5.
    expect(closeNames('fc2.bais', ['fc2.weight', 'fc1.bias', 'fc2.bias'])).toEqual(['fc2.bias', 'fc1.bias', 'fc2.weight']);
    expect(closeNames('ab', ['ax', 'xb'])).toEqual(['ax', 'xb']);
  });

  it('ranks a name containing the query first and keeps at most `limit`', () => {
    // "qkv.weight" is inside "blocks.0.qkv.weight" (9 insertions, less 10 for containing it) and 5 edits from "qkv.bias".
    expect(closeNames('qkv.weight', ['qkv.bias', 'blocks.0.qkv.weight'], 1)).toEqual(['blocks.0.qkv.weight']);
    expect(closeNames('qkv.weight', ['qkv.bias', 'blocks.0.qkv.weight'])).toEqual(['blocks.0.qkv.weight', 'qkv.bias']);
    expect(closeNames('x', ['a', 'b', 'c', 'd', 'e', 'f', 'g'])).toHaveLength(5);
  });
});
