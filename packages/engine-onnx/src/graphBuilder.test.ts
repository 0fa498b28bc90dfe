import { ConfigError, CpuTensor, NotFoundError, ShapeError, required } from '@bigr/core';
import type { GraphDefinition, Ops } from '@bigr/core';
import { buildOnnxModel, traceGraph } from './buildModel.js';
import { ONNX_IR_VERSION, ONNX_OPSET_VERSION, OnnxGraphBuilder } from './graphBuilder.js';
import { OnnxOps } from './onnxOps.js';
import { onnx } from './onnxProto.js';

const w = new CpuTensor(Float32Array.of(1, 2, 3, 4, 5, 6), [2, 3]);
const params = new Map([['layer.weight', w]]);

function def(build: GraphDefinition['build'], outputs = ['y']): GraphDefinition {
  return { name: 'g', inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', 3] }], outputs, build };
}

interface PlainDim {
  dimValue?: number;
  dimParam?: string;
}
/** The decoded model as a plain object (longs as numbers, defaults filled in). */
interface PlainModel {
  irVersion: number;
  opsetImport: { domain: string; version: number }[];
  graph: {
    node: { opType: string; attribute: { ints: number[] }[] }[];
    initializer: { name: string; dims: number[]; rawData: Uint8Array }[];
    input: { name: string; type: { tensorType: { elemType: number; shape: { dim: PlainDim[] } } } }[];
    output: { name: string }[];
  };
}

function plain(m: InstanceType<typeof onnx.ModelProto>): PlainModel {
  return onnx.ModelProto.toObject(m, { longs: Number, defaults: true, arrays: true }) as unknown as PlainModel;
}

function decode(bytes: Uint8Array): PlainModel {
  return plain(onnx.ModelProto.decode(bytes));
}

describe('OnnxGraphBuilder / buildOnnxModel', () => {
  test('writes IR 8, opset 17, dim_param for dynamic dims and typed outputs', () => {
    const m = decode(
      buildOnnxModel(
        def(<T>(ops: Ops<T>, v: Readonly<Record<string, T>>) => ({ y: ops.relu(required(v['x'], 'input x')) })),
        params,
      ),
    );
    expect(m.irVersion).toBe(ONNX_IR_VERSION);
    expect(ONNX_IR_VERSION).toBe(8);
    expect(m.opsetImport.map((o) => [o.domain, o.version])).toEqual([['', ONNX_OPSET_VERSION]]);
    expect(ONNX_OPSET_VERSION).toBe(17);
    const [input] = m.graph.input;
    expect(m.graph.input).toHaveLength(1);
    expect(input?.name).toBe('x');
    expect(input?.type.tensorType.elemType).toBe(1);
    expect(input?.type.tensorType.shape.dim.map((d) => d.dimParam || d.dimValue)).toEqual(['batch', 3]);
    expect(m.graph.output.map((o) => o.name)).toEqual(['y']);
    expect(m.graph.initializer).toHaveLength(0); // the unused parameter is not written
  });

  test('a parameter used many times is one initializer; transposeB on a parameter transposes it at build time', () => {
    const m = decode(
      buildOnnxModel(
        def(
          <T>(ops: Ops<T>, v: Readonly<Record<string, T>>) => {
            const a = ops.matMul(required(v['x'], 'input x'), ops.param('layer.weight'), false, true);
            const b = ops.matMul(required(v['x'], 'input x'), ops.param('layer.weight'), false, true);
            return { y: ops.add(a, b), z: ops.add(ops.param('layer.weight'), ops.param('layer.weight')) };
          },
          ['y', 'z'],
        ),
        params,
      ),
    );
    const ops = m.graph.node.map((n) => n.opType);
    expect(ops).not.toContain('Transpose');
    const inits = m.graph.initializer;
    expect(inits.map((i) => i.name).filter((n) => n === 'layer.weight')).toHaveLength(1);
    const t = inits.filter((i) => i.name.startsWith('layer.weight.transposed'));
    expect(t).toHaveLength(1);
    const transposed = required(t[0], 'transposed initializer');
    expect(transposed.dims).toEqual([3, 2]);
    const raw = transposed.rawData;
    expect([...new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength))]).toEqual([1, 4, 2, 5, 3, 6]);
  });

  test('transposeB on a runtime value emits a Transpose of the last two axes', () => {
    const b = traceGraph(
      {
        name: 'g',
        inputs: [
          { name: 'a', dtype: 'float32', shape: [2, 4, 3] },
          { name: 'c', dtype: 'float32', shape: [2, 5, 3] },
        ],
        outputs: ['y'],
        build: <T>(ops: Ops<T>, v: Readonly<Record<string, T>>) => ({ y: ops.matMul(required(v['a'], 'input a'), required(v['c'], 'input c'), false, true) }),
      },
      new Map(),
    );
    const m = plain(b.toModelProto());
    const tr = m.graph.node.find((n) => n.opType === 'Transpose');
    expect(tr?.attribute[0]?.ints).toEqual([0, 2, 1]);
  });

  test('shared int64 constants and scalars are deduplicated', () => {
    const builder = new OnnxGraphBuilder('g');
    const ops = new OnnxOps(builder, new Map());
    const x = builder.addInput({ name: 'x', dtype: 'float32', shape: [2, 3] });
    const y = ops.add(ops.reshape(x, [3, 2]), ops.reshape(ops.mul(x, ops.scalar(2)), [3, 2]));
    builder.addOutput('y', ops.add(y, ops.scalar(2)));
    const m = plain(builder.toModelProto());
    expect(m.graph.initializer).toHaveLength(2); // one shape, one scalar
    expect(builder.nodeOpTypes).toEqual(['Reshape', 'Mul', 'Reshape', 'Add', 'Add', 'Identity']);
  });

  test('errors name the problem', () => {
    const missing = def(<T>(ops: Ops<T>) => ({ y: ops.param('layer.wieght') }));
    expect(() => buildOnnxModel(missing, params)).toThrow(NotFoundError);
    expect(() => buildOnnxModel(missing, params)).toThrow(/"layer\.wieght".*similar names: layer\.weight/);
    const noOutput = def(<T>(_ops: Ops<T>, v: Readonly<Record<string, T>>) => ({ z: required(v['x'], 'input x') }));
    expect(() => buildOnnxModel(noOutput, params)).toThrow(/declares output "y" but build\(\) returned only \[z\]/);
    const clash: GraphDefinition = {
      ...def(<T>(ops: Ops<T>, v: Readonly<Record<string, T>>) => ({
        y: ops.add(required(v['layer.weight'], 'input layer.weight'), ops.param('layer.weight')),
      })),
      inputs: [{ name: 'layer.weight', dtype: 'float32', shape: [2, 3] }],
    };
    expect(() => buildOnnxModel(clash, params)).toThrow(ConfigError);
    const badReshape = def(<T>(ops: Ops<T>, v: Readonly<Record<string, T>>) => ({ y: ops.reshape(required(v['x'], 'input x'), [-1, -1]) }));
    expect(() => buildOnnxModel(badReshape, params)).toThrow(ShapeError);
    const badTranspose = def(<T>(ops: Ops<T>, v: Readonly<Record<string, T>>) => ({ y: ops.transpose(required(v['x'], 'input x'), [0, 1, 2]) }));
    expect(() => buildOnnxModel(badTranspose, params)).toThrow(/perm \[0, 1, 2\] has 3 entries but "x" has rank 2/);
    const intExp: GraphDefinition = {
      name: 'g',
      inputs: [{ name: 'i', dtype: 'int32', shape: [2] }],
      outputs: ['y'],
      build: <T>(ops: Ops<T>, v: Readonly<Record<string, T>>) => ({ y: ops.exp(required(v['i'], 'input i')) }),
    };
    expect(() => buildOnnxModel(intExp, params)).toThrow(/Exp needs a float32 value/);
  });
});
