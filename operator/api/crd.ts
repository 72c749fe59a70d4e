// A kind of the mailfleet API and the CustomResourceDefinition built from it. Pure: no I/O.
import type { ResourceType } from '../kube/resource.ts';
import type { Schema, ValidationRule } from './schema.ts';

export const apiGroup = 'mailfleet.dev';
export const apiVersion = 'v1alpha1';
export const groupVersion = `${apiGroup}/${apiVersion}`;
export const apiCategory = 'mailfleet';

export interface PrinterColumn {
  readonly name: string;
  readonly type: 'string' | 'integer' | 'boolean' | 'date';
  readonly jsonPath: string;
  readonly description: string;
  readonly priority?: number;
}

export interface KindDefinition {
  readonly kind: string;
  readonly singular: string;
  readonly plural: string;
  readonly shortNames: readonly string[];
  readonly description: string;
  readonly spec: Schema;
  readonly status: Schema;
  /** CEL rules on the whole object, for what only the root sees (`self.metadata.name`). */
  readonly rootRules?: readonly ValidationRule[];
  readonly printerColumns: readonly PrinterColumn[];
  /** The scale subresource maps onto these paths when present. */
  readonly scale?: {
    readonly specReplicasPath: string;
    readonly statusReplicasPath: string;
    readonly labelSelectorPath: string;
  };
}

export function resourceTypeOf(definition: KindDefinition): ResourceType {
  return {
    group: apiGroup,
    version: apiVersion,
    kind: definition.kind,
    plural: definition.plural,
    namespaced: true,
  };
}

export function conditionColumn(type: string, description: string): PrinterColumn {
  return {
    name: type,
    type: 'string',
    jsonPath: `.status.conditions[?(@.type=="${type}")].status`,
    description,
  };
}

export const ageColumn: PrinterColumn = {
  name: 'Age',
  type: 'date',
  jsonPath: '.metadata.creationTimestamp',
  description: 'Time since the object was created.',
};

/** The apiextensions.k8s.io/v1 CustomResourceDefinition of one kind, ready to serialise. */
export function customResourceDefinition(definition: KindDefinition): Record<string, unknown> {
  const { scale } = definition;
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${definition.plural}.${apiGroup}` },
    spec: {
      group: apiGroup,
      names: {
        kind: definition.kind,
        listKind: `${definition.kind}List`,
        singular: definition.singular,
        plural: definition.plural,
        shortNames: definition.shortNames,
        categories: [apiCategory],
      },
      scope: 'Namespaced',
      versions: [
        {
          name: apiVersion,
          served: true,
          storage: true,
          subresources: {
            status: {},
            ...(scale ? { scale } : {}),
          },
          additionalPrinterColumns: definition.printerColumns,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: definition.description,
              properties: {
                apiVersion: {
                  type: 'string',
                  description:
                    'The versioned schema of this representation of an object (`mailfleet.dev/v1alpha1`).',
                },
                kind: { type: 'string', description: `The kind of the object (\`${definition.kind}\`).` },
                // name declared, so a root rule can report at .metadata.name (the only metadata a CRD may constrain)
                metadata:
                  definition.rootRules === undefined
                    ? { type: 'object' }
                    : { type: 'object', properties: { name: { type: 'string' } } },
                spec: definition.spec,
                status: definition.status,
              },
              required: ['spec'],
              ...(definition.rootRules === undefined
                ? {}
                : { 'x-kubernetes-validations': definition.rootRules }),
            },
          },
        },
      ],
    },
  };
}
