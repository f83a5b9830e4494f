/**
 * The three.js canvas: agents, edges, particles and labels inside one group that XR rescales, an orbit
 * camera with "F to fit", a frame driver that steps the layout and renders on demand only while
 * something moves, and WebGL context-loss recovery (the canvas is remounted when the context returns).
 * What XR adds inside the swarm (the detail card) is passed in by the page (`xrContent`): client/xr builds on
 * the scene, never the other way round.
 */
import { Component, useEffect, useRef, useState, type ReactNode } from 'react';
import { Canvas, useFrame, useThree } from '@react-three/fiber';
import { OrbitControls } from '@react-three/drei';
import { XR, useXR, type XRStore } from '@react-three/xr';
import * as THREE from 'three';
import { useHive, useHiveStore } from '../state/react.js';
import { useServices } from '../page/context.js';
import { Agents } from './Agents.js';
import { Edges } from './Edges.js';
import { Labels } from './Labels.js';
import { ClusterLabels } from './ClusterLabels.js';
import { swarmGroupRef, rendererRef, cameraRef } from './sceneRefs.js';
import { recordFrame, frameStats } from './frameStats.js';

/** Instance capacity steps: buffers are reallocated (rarely) in powers of two. */
function capacityFor(n: number): number {
  let c = 256;
  while (c < n) c *= 2;
  return c;
}

/** First retry of a canvas whose renderer failed, doubling up to the cap. */
const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 30_000;

/** Catches a failure of the 3D view (R3F rethrows renderer errors into React) so only the view retries. */
class CanvasBoundary extends Component<{ onError: (e: Error) => void; children: ReactNode }, { failed: boolean }> {
  override state = { failed: false };
  static getDerivedStateFromError(): { failed: boolean } {
    return { failed: true };
  }
  override componentDidCatch(error: Error): void {
    this.props.onError(error);
  }
  override render(): ReactNode {
    return this.state.failed ? null : this.props.children;
  }
}

export function HiveCanvas(props: { xrStore: XRStore; /** Drawn inside the swarm group while an XR session runs. */ xrContent?: ReactNode }) {
  const [generation, setGeneration] = useState(0);
  const [lost, setLost] = useState(false);
  const failures = useRef(0);
  const retryTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => () => {
    if (retryTimer.current) clearTimeout(retryTimer.current);
  }, []);
  // The renderer could not be created (its context was lost before three.js got it, or the GPU is gone):
  // show the lost state and try a fresh canvas element, backing off, instead of losing the whole page.
  const onCanvasError = (error: Error) => {
    console.error('hivescope: the 3D view failed; retrying with a new canvas', error);
    frameStats.contextLost = true;
    setLost(true);
    const delay = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** failures.current++);
    if (retryTimer.current) clearTimeout(retryTimer.current);
    retryTimer.current = setTimeout(() => {
      retryTimer.current = null;
      frameStats.contextLost = false;
      setLost(false);
      setGeneration((g) => g + 1);
    }, delay);
  };
  // Events from a replaced canvas are ignored: unmounting the old renderer forces *its* context lost.
  const current = useRef(0);
  current.current = generation;
  const background = useHive((s) => s.settings.colors.background);
  const sceneMounted = useHive((s) => s.sceneMounted);
  return (
    <div className="canvas-wrap" data-context-lost={lost ? 'true' : 'false'}>
      <CanvasBoundary key={generation} onError={onCanvasError}>
      <Canvas
        frameloop="demand"
        dpr={[1, 2]}
        camera={{ position: [0, 60, 320], fov: 50, near: 0.5, far: 20000 }}
        gl={{ antialias: true, powerPreference: 'high-performance' }}
        onCreated={({ gl }) => {
          failures.current = 0;
          rendererRef.current = gl;
          const mine = generation;
          const canvas = gl.domElement;
          canvas.setAttribute('aria-label', 'Swarm view: agents and the messages between them');
          canvas.setAttribute('role', 'img');
          canvas.addEventListener('webglcontextlost', (e) => {
            if (current.current !== mine) return;
            // preventDefault tells the browser we will handle restoration.
            e.preventDefault();
            frameStats.contextLost = true;
            setLost(true);
          });
          canvas.addEventListener('webglcontextrestored', () => {
            if (current.current !== mine) return;
            frameStats.contextLost = false;
            setLost(false);
            // Every GPU resource is gone: remount the scene so each component recreates (and later disposes) its own.
            setGeneration((g) => g + 1);
          });
        }}
      >
        <color attach="background" args={[background]} />
        <XR store={props.xrStore}>
          <FrameDriver />
          <XRSessionWatcher />
          {sceneMounted && <SceneContent xrContent={props.xrContent} />}
        </XR>
      </Canvas>
      </CanvasBoundary>
      {lost && (
        <div className="context-lost" role="alert">
          The graphics context was lost (GPU reset or too many tabs). Restoring it; if this stays, reload the page.
        </div>
      )}
    </div>
  );
}

function SceneContent(props: { xrContent: ReactNode }) {
  const agentCount = useHive((s) => s.agents.size);
  const edgeCount = useHive((s) => s.edges.size);
  const inXR = useHive((s) => s.inXR);
  const agentCapacity = capacityFor(agentCount);
  const edgeCapacity = capacityFor(edgeCount);
  return (
    <>
      <ambientLight intensity={0.55} />
      <directionalLight position={[200, 300, 200]} intensity={1.4} />
      <directionalLight position={[-200, -100, -150]} intensity={0.35} />
      <SwarmGroup>
        <Edges capacity={edgeCapacity} />
        <Agents capacity={agentCapacity} />
        <Labels />
        <ClusterLabels />
        {inXR && props.xrContent}
      </SwarmGroup>
      {!inXR && <CameraRig />}
    </>
  );
}

/** Steps the layout each frame and keeps rendering only while something moves or changed. */
function FrameDriver() {
  const { layout, connection } = useServices();
  const store = useHiveStore();
  const invalidate = useThree((s) => s.invalidate);
  useEffect(() => {
    // Any store change may change what is drawn (metrics, selection, settings): draw one frame.
    const unsub = store.subscribe(() => invalidate());
    const unsubPos = connection.onPositions(() => invalidate());
    return () => {
      unsub();
      unsubPos();
    };
  }, [store, connection, invalidate]);
  useFrame(() => {
    recordFrame(performance.now());
    if (layout.tick()) invalidate();
  });
  return null;
}

/** Mirrors the XR session into the store (inXR drives followOnly and the in-scene card). */
function XRSessionWatcher() {
  const session = useXR((s) => s.session);
  const store = useHiveStore();
  const { connection, options } = useServices();
  useEffect(() => {
    const inXR = session != null;
    store.setState({ inXR });
    if (!inXR) connection.setFollowOnly(options.followOnly);
  }, [session, store, connection, options]);
  return null;
}

/**
 * Holds the swarm. Outside XR it is the identity; in AR the swarm is scaled to about a metre and placed at
 * table height in front of the user; in VR to about two metres at eye height.
 */
function SwarmGroup(props: { children: React.ReactNode }) {
  const ref = useRef<THREE.Group>(null);
  const mode = useXR((s) => s.mode);
  const { positions } = useServices();
  const placedFor = useRef(-1);
  useEffect(() => {
    placedFor.current = -1;
    const g = ref.current;
    if (g && mode !== 'immersive-ar' && mode !== 'immersive-vr') {
      g.scale.setScalar(1);
      g.position.set(0, 0, 0);
    }
  }, [mode]);
  // In XR, re-place the swarm whenever agents come or go (swarms start and finish while the headset is on).
  useFrame(() => {
    const g = ref.current;
    if (!g || (mode !== 'immersive-ar' && mode !== 'immersive-vr') || placedFor.current === positions.structure) return;
    placedFor.current = positions.structure;
    const b = positions.bounds();
    const size = mode === 'immersive-ar' ? 1 : 2;
    const s = size / (2 * b.radius);
    g.scale.setScalar(s);
    const [y, z] = mode === 'immersive-ar' ? [0.8, -0.9] : [1.3, -1.8];
    g.position.set(-b.cx * s, y - b.cy * s, z - b.cz * s);
  });
  return (
    <group
      ref={(g: THREE.Group | null) => {
        ref.current = g;
        swarmGroupRef.current = g;
      }}
      name="swarm"
    >
      {props.children}
    </group>
  );
}

/** Orbit camera; "F" (or the fit button) frames the whole swarm; the first agents are framed automatically. */
function CameraRig() {
  const store = useHiveStore();
  const { positions } = useServices();
  const controls = useRef<React.ComponentRef<typeof OrbitControls>>(null);
  const camera = useThree((s) => s.camera);
  const invalidate = useThree((s) => s.invalidate);
  const fitted = useRef(false);
  useEffect(() => {
    cameraRef.current = camera;
  }, [camera]);

  useEffect(() => {
    const fit = () => {
      const c = controls.current;
      const b = positions.bounds();
      const persp = camera as THREE.PerspectiveCamera;
      const dist = (b.radius * 1.6) / Math.sin(THREE.MathUtils.degToRad(persp.fov / 2));
      const target = new THREE.Vector3(b.cx, b.cy, b.cz);
      const dir = new THREE.Vector3().subVectors(camera.position, c ? c.target : target).normalize();
      if (dir.lengthSq() < 1e-6) dir.set(0, 0.2, 1).normalize();
      camera.position.copy(target).addScaledVector(dir, dist);
      if (c) {
        c.target.copy(target);
        c.update();
      }
      invalidate();
    };
    let lastFit = store.getState().fitRequest;
    const unsub = store.subscribe((s) => {
      if (s.fitRequest !== lastFit) {
        lastFit = s.fitRequest;
        fit();
      }
    });
    // Frame the swarm once its first agents have been laid out for a moment.
    const timer = setInterval(() => {
      if (!fitted.current && positions.count > 0 && store.getState().snapshotApplied) {
        fitted.current = true;
        setTimeout(fit, 1200);
      }
    }, 250);
    return () => {
      unsub();
      clearInterval(timer);
    };
  }, [store, positions, camera, invalidate]);

  return <OrbitControls ref={controls} makeDefault enableDamping={false} />;
}
